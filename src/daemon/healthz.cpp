#include "daemon/healthz.hpp"

#include "bgp/fsm.hpp"

namespace anycastd::daemon {

Healthz healthz(config::MetricsConfig::Healthz rule, const api::Parts& d) {
  using H = config::MetricsConfig::Healthz;
  // Stopping (SIGTERM's drain, then the withdrawal) fails every rule: the probe must move new
  // flows away before the VIPs go.
  if (d.stopping && d.stopping()) return {false, "stopping: draining and withdrawing the VIPs"};
  if (!d.speaker) return {false, "BGP is not running"};
  const auto& vips = d.speaker->config().vips;
  size_t up = 0, draining = 0;
  std::string down;
  for (const auto& v : vips) {
    const bool announced = d.speaker->vip_up(v.prefix);
    up += announced;
    const health::VipHealth* h = d.monitor ? d.monitor->vip(v.prefix) : nullptr;
    const auto status = h ? h->status() : health::VipStatus::announced;
    if (status == health::VipStatus::draining || status == health::VipStatus::drained) ++draining;
    if (!announced && down.empty())
      down = v.prefix.to_string() + " " +
             (h ? health::to_string(status) + " (" + h->reason() + ")" : std::string("withdrawn"));
  }
  const std::string count =
      std::to_string(up) + " of " + std::to_string(vips.size()) + " VIPs announced";
  switch (rule) {
    case H::any_vip:
      if (up > 0) return {true, count};
      return {false, count + (down.empty() ? "" : ": " + down)};
    case H::all_vips:
      if (up == vips.size() && up > 0) return {true, count};
      return {false, count + (down.empty() ? "" : "; first down: " + down)};
    case H::session:
      for (size_t i = 0; i < d.speaker->peer_count(); ++i)
        if (d.speaker->peer_state(i) == bgp::State::established)
          return {true, "session with " + d.speaker->config().peers[i].address.to_string() +
                            " established"};
      return {false, "no BGP session established"};
    case H::not_draining:
      if (draining == 0) return {true, "not draining; " + count};
      return {false, std::to_string(draining) + " VIPs draining or drained"};
  }
  return {false, "unknown rule"};
}

}  // namespace anycastd::daemon
