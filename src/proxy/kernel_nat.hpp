// `forwarding: nat`: tc programs (bpf/nat.bpf.c) that forward a service's TCP segments or UDP
// datagrams by rewriting their addresses, attached to every interface's ingress and egress
// while this object lives. The proxy keeps each service's backends, health and drain state in the
// program's maps and reads its counters back.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "proxy/bpf/nat_shared.h"
#include "proxy/service_config.hpp"

struct nat_bpf;

namespace anycastd::proxy {

struct BackendView;

class KernelNat {
 public:
  static constexpr uint32_t kMaxServices = 64;
  // A flow outlives its connection (a closed one's port comes back), so the tables hold more
  // than the connections open at once.
  static constexpr uint32_t kMinFlows = 65536;

  using Notice = std::function<void(bool trouble, const std::string& what)>;

  // Loads the program with room for `flows` client flows in each of its two tables; attaches
  // nothing yet. With a `state` directory on a bpf filesystem the tables are pinned there and
  // the next load adopts them (a restart keeps every open flow), unless their layout changed;
  // what became of them is told to `notice`.
  static Result<std::unique_ptr<KernelNat>, std::string> load(uint32_t flows,
                                                              const std::string& state = {},
                                                              const Notice& notice = nullptr);
  ~KernelNat();  // detaches from every interface: the links die with their descriptors

  // Why `cfg` cannot take this path, or nothing.
  static std::string unsuited(const ServiceConfig& cfg);

  // Makes `cfg.listen` service number `service` (below kMaxServices).
  Status<> add(uint32_t service, const ServiceConfig& cfg);

  // How long an entry lives without a packet, by its state (IPVS's defaults where the service
  // has no word for it).
  static constexpr auto kOpeningTimeout = std::chrono::seconds(60);
  static constexpr auto kClosingTimeout = std::chrono::seconds(120);
  static constexpr auto kClosedTimeout = std::chrono::seconds(10);
  static constexpr auto kSweepInterval = std::chrono::seconds(2);
  // The service's backend slots (backend_plan.hpp) and the ones that take new flows
  // (healthy, weight above 0; none while draining).
  Status<> update(uint32_t service, const ServiceConfig& cfg,
                  const std::vector<BackendConfig>& configs,
                  const std::vector<BackendView>& backends, bool draining);
  // tc ingress on every interface there is now, and on each one that appears while this object
  // lives (a tunnel or a NIC that comes up after start), told to `notice` from a thread of this
  // object's. The error names the interface that refused.
  Status<> attach(Notice notice = nullptr);

  nat_counters count(uint32_t service, uint32_t backend) const;

  // A service's share of the connection tables, as of the last sweep.
  struct Table {
    // By state: opening (or taken over), established, closing (a FIN or a RST passed);
    // expired: forgotten since load. cache: entries in the cache of opening flows now, and
    // cache_expired of those expired.
    uint64_t opening = 0, established = 0, closing = 0, expired = 0;
    uint64_t cache = 0, cache_expired = 0;
  };
  Table table(uint32_t service) const;
  // Forgets the entries past their timeout and counts the rest; the watcher thread runs it
  // every kSweepInterval.
  void sweep();

 private:
  KernelNat() = default;
  // Attaches to one interface unless it has the program already; an error names it.
  Status<> attach_to(int ifindex, const std::string& name, unsigned short type);
  Status<> attach_all();                       // to every interface listed now
  void watch();                                // the thread: interfaces that come and go
  void on_links(const char* data, ssize_t n);  // one batch of its announcements

  nat_bpf* skel_ = nullptr;
  std::mutex mu_;
  std::map<int, std::vector<int>> links_;  // interface index to its links; under mu_
  int netlink_ = -1, stop_ = -1;
  Notice notice_;
  std::thread watcher_;
  uint32_t cpus_ = 1;

  mutable std::mutex table_mu_;  // what follows
  std::vector<Duration> idle_;   // per service: an established (or UDP) entry's timeout
  std::vector<Table> tables_;
  std::map<uint32_t, std::vector<nat_endpoint>> origins_;  // per service: the keys it wrote
};

}  // namespace anycastd::proxy
