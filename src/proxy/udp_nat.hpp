// The in-kernel UDP path: a tc ingress program (bpf/udp_nat.bpf.c) that forwards a UDP
// service's datagrams by rewriting their addresses, attached to every interface while this
// object lives. The proxy keeps each service's backends, health and drain state in the
// program's maps and reads its counters back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "proxy/bpf/udp_nat_shared.h"
#include "proxy/service_config.hpp"

struct udp_nat_bpf;

namespace anycastd::proxy {

struct BackendView;

class UdpNat {
 public:
  static constexpr uint32_t kMaxServices = 64;

  // Loads the program with room for `flows` client flows; attaches nothing yet.
  static Result<std::unique_ptr<UdpNat>, std::string> load(uint32_t flows);
  ~UdpNat();  // detaches from every interface: the links die with their descriptors

  // Why `cfg` cannot take this path, or nothing.
  static std::string unsuited(const ServiceConfig& cfg);

  // Makes `cfg.listen` service number `service` (below kMaxServices).
  Status<> add(uint32_t service, const ServiceConfig& cfg);
  // The backends that take new flows (healthy, weight above 0; none while draining).
  Status<> update(uint32_t service, const ServiceConfig& cfg,
                  const std::vector<BackendView>& backends, bool draining);
  // tc ingress on every interface there is now; the error names the one that refused.
  Status<> attach();

  nat_counters count(uint32_t service, uint32_t backend) const;

 private:
  UdpNat() = default;
  udp_nat_bpf* skel_ = nullptr;
  std::vector<int> links_;
  uint32_t cpus_ = 1;
};

}  // namespace anycastd::proxy
