// `forwarding: nat`: tc programs (bpf/nat.bpf.c) that forward a service's TCP segments or UDP
// datagrams by rewriting their addresses, attached to every interface's ingress and egress
// while this object lives. The proxy keeps each service's backends, health and drain state in the
// program's maps and reads its counters back.
#pragma once

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

  // Loads the program with room for `flows` client flows; attaches nothing yet.
  static Result<std::unique_ptr<KernelNat>, std::string> load(uint32_t flows);
  ~KernelNat();  // detaches from every interface: the links die with their descriptors

  // Why `cfg` cannot take this path, or nothing.
  static std::string unsuited(const ServiceConfig& cfg);

  // Makes `cfg.listen` service number `service` (below kMaxServices).
  Status<> add(uint32_t service, const ServiceConfig& cfg);
  // The backends that take new flows (healthy, weight above 0; none while draining).
  Status<> update(uint32_t service, const ServiceConfig& cfg,
                  const std::vector<BackendView>& backends, bool draining);
  using Notice = std::function<void(bool trouble, const std::string& what)>;
  // tc ingress on every interface there is now, and on each one that appears while this object
  // lives (a tunnel or a NIC that comes up after start), told to `notice` from a thread of this
  // object's. The error names the interface that refused.
  Status<> attach(Notice notice = nullptr);

  nat_counters count(uint32_t service, uint32_t backend) const;

 private:
  KernelNat() = default;
  // Attaches to one interface unless it has the program already; an error names it.
  Status<> attach_to(int ifindex, const std::string& name);
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
};

}  // namespace anycastd::proxy
