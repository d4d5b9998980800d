#include "proxy/backend_plan.hpp"

#include <algorithm>

namespace anycastd::proxy {

Result<BackendChanges, std::string> plan_backends(BackendSlots& slots,
                                                  const std::vector<BackendConfig>& next,
                                                  std::chrono::steady_clock::time_point now,
                                                  std::chrono::steady_clock::duration drain_time,
                                                  size_t capacity) {
  auto slot_of = [&](const Endpoint& e) -> std::optional<size_t> {
    for (size_t i = 0; i < slots.configs.size(); ++i)
      if (slots.configs[i].endpoint == e) return i;
    return std::nullopt;
  };
  size_t fresh = 0;
  for (const auto& b : next) fresh += !slot_of(b.endpoint);
  if (slots.configs.size() + fresh > capacity)
    return Err(std::to_string(slots.configs.size() + fresh) +
               " backends, counting those removed since the start, would be more than the " +
               std::to_string(capacity) + " a service takes without a restart");
  BackendSlots out = slots;
  BackendChanges changes;
  for (const auto& b : next) {
    auto at = slot_of(b.endpoint);
    if (!at) {
      out.configs.push_back(b);
      out.control.push_back({b.checks.empty(), AdminState::ready, b.weight});
      changes.added.push_back(b.name());
      continue;
    }
    auto& cfg = out.configs[*at];
    auto& ctl = out.control[*at];
    if (ctl.removed) {
      ctl = {b.checks.empty(), AdminState::ready, b.weight};
      cfg = b;
      changes.added.push_back(b.name());
      continue;
    }
    if (cfg.weight == b.weight && cfg.checks == b.checks) continue;
    if (cfg.weight != b.weight) ctl.weight = b.weight;
    if (cfg.checks != b.checks && b.checks.empty()) ctl.healthy = true;
    cfg = b;
    changes.changed.push_back(b.name());
  }
  for (size_t i = 0; i < out.configs.size(); ++i) {
    auto& ctl = out.control[i];
    if (ctl.removed) continue;
    bool listed = std::any_of(next.begin(), next.end(), [&](const BackendConfig& b) {
      return b.endpoint == out.configs[i].endpoint;
    });
    if (listed) continue;
    ctl.removed = true;
    ctl.close_before = now + drain_time;
    changes.removed.push_back(out.configs[i].name());
  }
  slots = std::move(out);
  return changes;
}

}  // namespace anycastd::proxy
