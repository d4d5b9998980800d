#pragma once
// The same topology as real processes: every route server, gateway, MSEE, on-prem router
// and NVA is an anycastd with a generated configuration, on its own loopback address
// (127.(100 + port % 100).x.y, in the order of the file's addresses, so "lowest next hop" picks the
// same device), BGP over real TCP, steps in real time. Backends are HTTP servers inside this
// process for the NVAs' checks. Tables are read over each daemon's control socket and
// shown with the file's addresses. Clients send no requests in this mode.
#include <list>
#include <map>
#include <memory>

#include "lab/lab.hpp"
#include "lab/netns.hpp"
#include "lab/sim_lab.hpp"
#include "runtime/asio/asio_loop.hpp"
#include "runtime/scoped_posts.hpp"

namespace anycastd::lab {

class LiveLab : public Lab {
 public:
  // `netns`: each device in a network namespace of its own on one bridged segment
  // (198.18.0.0/16), announced prefixes mapped into 198.19.0.0/16, routes in the kernel,
  // clients' requests sent to the VIP itself. Needs root.
  LiveLab(const Topology& t, std::string anycastd, uint16_t port,
          std::function<void(const std::string&)> progress, bool netns = false);
  ~LiveLab() override;

  // Writes the configurations, starts every daemon and backend, and waits until every
  // session is established (or says which are not).
  Status<> start() override;
  void apply(const Action& a) override;
  Loop& loop() override { return loop_; }
  void run_until(Duration t) override;
  Duration elapsed() const override { return loop_.now() - start_; }
  std::string mode() const override { return netns_ ? "netns" : "live"; }
  // Through the daemons' tables (read over their control sockets) to an NVA, then a real
  // HTTP request to that NVA's proxy.
  void request(const ClientSpec& c, uint64_t flow, std::function<void(Outcome)> done) override;

  std::optional<DeviceTable> table(const std::string& device) const override;
  std::vector<std::string> msee_routes(const std::string& circuit, const Prefix& p) const override;
  std::string msee_chosen_region(const std::string& circuit, const Prefix& p) const override;
  bool route_server_has(const std::string& hub, const Prefix& p) const override;

 private:
  struct Proc;
  struct Route {
    Prefix prefix;
    IpAddress next_hop;  // the file's address
    std::string path;
    std::string from;
    bool best = false;
    bool multipath = false;
    std::optional<uint32_t> local_pref, med;
    std::string origin = "i";
  };

  struct Backend;
  class Client;
  std::optional<std::string> listen(Backend& b);
  IpAddress map(const IpAddress& a) const;
  IpAddress unmap(const IpAddress& a) const;
  Endpoint map(const Endpoint& e) const;
  // netns: announced prefixes and addresses inside them (VIPs, spokes) into 198.19/16.
  Prefix map(const Prefix& p) const;
  Prefix unmap(const Prefix& p) const;
  IpAddress map_target(const IpAddress& a) const;
  Status<> start_netns();
  // The daemon's configuration for a device, with its addresses (and in netns mode its
  // prefixes) mapped; `vips`: what it originates now, if not what it started with.
  void assign_addresses();
  config::Config config_for(const SimLab::Node& n,
                            const std::vector<bgp::VipConfig>* vips = nullptr) const;
  void write_config(Proc& p);
  bool spawn(Proc& p);
  void stop(Proc& p, int sig);
  std::vector<Route> routes(const std::string& device) const;
  const SimLab::Node* device(const IpAddress& file_address) const;
  const SimLab::Node* device_named(const std::string& name) const;
  void emit(std::string kind, std::string text);

  Topology t_;
  SimLab plan_;  // the devices and their settings, never started
  std::string anycastd_;
  uint16_t port_;
  std::function<void(const std::string&)> progress_;
  std::string dir_;
  rt::AsioLoop loop_;
  std::unique_ptr<Transport> transport_;
  TimePoint start_{};
  std::map<IpAddress, IpAddress> to_live_, to_file_;
  std::map<std::string, std::unique_ptr<Proc>> procs_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::list<std::unique_ptr<Client>> clients_;
  bool netns_ = false;
  std::map<Prefix, Prefix> to_live_prefix_, to_file_prefix_;
  std::unique_ptr<Netns> spaces_;
  std::map<std::string, std::string> ns_of_;  // device or client name -> namespace
  std::map<std::string, IpAddress> client_address_;
  std::map<std::string, std::unique_ptr<NetnsHttpServer>> servers_;
  std::shared_ptr<std::atomic<int>> inflight_ = std::make_shared<std::atomic<int>>(0);
  // Scheduled actions (a second SIGTERM, a thaw) and finished clients' removal.
  ScopedPosts later_{loop_};
};

}  // namespace anycastd::lab
