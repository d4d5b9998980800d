#pragma once
// In-memory links on a SimLoop: ordered, reliable byte streams and datagrams with
// configurable one-way latency, and silent partitions between two addresses.
#include <map>
#include <set>

#include "runtime/sim/sim_loop.hpp"
#include "runtime/transport.hpp"

namespace anycastd::sim {

class SimNetwork : public Transport {
 public:
  explicit SimNetwork(SimLoop& loop, Duration latency = std::chrono::milliseconds(1))
      : loop_(loop), latency_(latency) {}
  using Transport::connect;
  using Transport::udp;

  std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                ConnectCallback cb) override;
  Result<std::unique_ptr<Listener>, std::string> listen(Endpoint at, AcceptCallback cb) override;
  Result<std::unique_ptr<Datagram>, std::string> udp(Endpoint at, std::optional<Endpoint> peer,
                                                     Datagram::Handler* h) override;
  // The simulator has no Unix sockets: the callback gets an error.
  std::shared_ptr<void> connect_unix(const std::string& path, ConnectCallback cb) override;

  // A transport bound to one host address: connections it opens come from `local`.
  std::unique_ptr<Transport> host(IpAddress local);

  // A network partition between a and b, as lost packets are: nothing crosses and nobody
  // is told (sessions notice only by their hold timers); datagrams are lost; connects get
  // no answer. Bytes and closes sent meanwhile on open connections arrive after heal(), as
  // TCP retransmits them.
  void partition(IpAddress a, IpAddress b);
  void heal(IpAddress a, IpAddress b);
  // A host that stops answering, as a paused VM: a partition from every other host at
  // once. Its own timers keep running; what it sent meanwhile arrives after rejoin().
  void isolate(IpAddress host);
  void rejoin(IpAddress host);
  // A host that loses power: nothing it sent is delivered, its peers get no FIN or reset
  // (they notice only by their own timers), connects to it never answer. revive() lets it
  // open and accept new connections; the severed ones stay dead.
  void crash(IpAddress host);
  void revive(IpAddress host) { dead_.erase(host); }
  bool crashed(const IpAddress& host) const { return dead_.count(host) > 0; }
  // One-way latency between two hosts, overriding the default (regions far apart).
  void set_latency(IpAddress a, IpAddress b, Duration d);
  Duration latency(const IpAddress& a, const IpAddress& b) const;

  SimLoop& loop() { return loop_; }
  Duration latency() const { return latency_; }

  struct Pipe;     // shared state of one connection
  struct UdpPort;  // shared state of one datagram socket
 private:
  friend class SimListener;
  friend class SimDatagram;
  void deliver_datagram(Endpoint from, Endpoint to, Bytes data);
  bool blocked(const IpAddress& a, const IpAddress& b) const;
  void release_held();

  SimLoop& loop_;
  Duration latency_;
  uint16_t next_port_ = 40000;
  std::map<std::pair<IpAddress, uint16_t>, AcceptCallback> listeners_;
  std::set<std::pair<IpAddress, IpAddress>> partitions_;
  std::set<IpAddress> dead_;
  std::set<IpAddress> isolated_;
  std::map<std::pair<IpAddress, IpAddress>, Duration> latencies_;
  std::set<std::shared_ptr<Pipe>> pipes_;
  std::map<std::pair<IpAddress, uint16_t>, std::weak_ptr<UdpPort>> udp_ports_;
};

}  // namespace anycastd::sim
