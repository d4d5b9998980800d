#pragma once
// What a reload does to a running service's backends, computed without touching it. A
// service's backends are slots: each backend keeps the place it first had for the life of
// the process, and a removed one keeps its place (marked removed) while its open
// connections drain, so that the index a connection or a flow holds never means another
// backend. A backend that comes back takes its old place again.
#include <chrono>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "proxy/backend_control.hpp"

namespace anycastd::proxy {

struct BackendSlots {
  std::vector<BackendConfig> configs;
  std::vector<BackendControl> control;
};

// Per backend (address:port) of one service, what a reload did.
struct BackendChanges {
  std::vector<std::string> added, removed, changed;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// Turns `slots` into what `next` (the service's backends in the new file) asks for:
// - a new backend takes a new slot, its health as its checks will say (up with none);
// - a backend no longer listed is marked removed: no new connections, and those open get
//   until now + `drain_time` before they are closed;
// - a listed backend whose weight or checks changed takes them; a new configured weight
//   replaces the operator's runtime one, an unchanged one leaves it (and the admin state)
//   as it was, as HAProxy's server-state file keeps them across a reload;
// - one that comes back after its removal is ready again, at its configured weight.
// Fails, changing nothing, when more than `capacity` slots would be needed.
Result<BackendChanges, std::string> plan_backends(BackendSlots& slots,
                                                  const std::vector<BackendConfig>& next,
                                                  std::chrono::steady_clock::time_point now,
                                                  std::chrono::steady_clock::duration drain_time,
                                                  size_t capacity);

}  // namespace anycastd::proxy
