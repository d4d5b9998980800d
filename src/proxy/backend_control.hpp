#pragma once
// What decides whether, and how much, a backend is used: its checks' verdict, and what the
// operator set at run time (HAProxy's `set server state` and `set server weight`). Pure:
// every forwarding path turns these into the BackendView its balancer reads.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/balancer.hpp"
#include "proxy/service_config.hpp"

namespace anycastd::proxy {

// ready: used as its checks say. drain: no new connections or flows, open ones go on,
// checks go on. maint: no new connections either (HAProxy's maintenance).
enum class AdminState : uint8_t { ready, drain, maint };
const char* to_string(AdminState s);
std::optional<AdminState> admin_state_from(std::string_view text);

inline constexpr uint32_t kMaxWeight = 256;  // as HAProxy's server weights

struct BackendControl {
  bool healthy = true;  // all of its checks up (or none configured)
  AdminState admin = AdminState::ready;
  uint32_t weight = 1;  // the configured weight until the operator sets another
  // Once this time comes, connections and flows to it opened before it are closed: now for
  // maint with --close, the service's drain-time after a reload removed the backend.
  std::chrono::steady_clock::time_point close_before{};
  // A reload took it out of the configuration: it keeps its place (the index its open
  // connections hold) but gets nothing new.
  bool removed = false;
};

// The backend as the balancers see it: used only while healthy and ready, at the
// operator's weight.
inline BackendView effective_view(const BackendConfig& cfg, const BackendControl& c) {
  return {cfg.name(), c.weight, c.healthy && c.admin == AdminState::ready && !c.removed};
}

}  // namespace anycastd::proxy
