#include "proxy/health_link.hpp"

#include <algorithm>

namespace anycastd::proxy {

HealthLink::HealthLink(health::Monitor& monitor, Forwarder& engine)
    : monitor_(monitor), engine_(engine) {}

bool HealthLink::healthy(const BackendConfig& b) const {
  for (const auto& name : b.checks) {
    auto* c = monitor_.checker(name);
    if (!c || !c->state().up()) return false;
  }
  return true;
}

void HealthLink::refresh() {
  const auto& svcs = engine_.config().services;
  for (size_t s = 0; s < svcs.size(); ++s)
    for (size_t b = 0; b < svcs[s].backends.size(); ++b)
      engine_.set_backend_health(s, b, healthy(svcs[s].backends[b]));
}

void HealthLink::on_check(const health::Checker& c, bool flipped) {
  if (!flipped) return;
  const auto& svcs = engine_.config().services;
  for (size_t s = 0; s < svcs.size(); ++s)
    for (size_t b = 0; b < svcs[s].backends.size(); ++b) {
      const auto& checks = svcs[s].backends[b].checks;
      if (std::find(checks.begin(), checks.end(), c.config().name) != checks.end())
        engine_.set_backend_health(s, b, healthy(svcs[s].backends[b]));
    }
}

void HealthLink::on_failure(size_t s, size_t b, const std::string& why) {
  const auto& svcs = engine_.config().services;
  if (s >= svcs.size() || b >= svcs[s].backends.size()) return;
  const auto& svc = svcs[s];
  const auto& be = svc.backends[b];
  for (const auto& name : be.checks)
    if (auto* c = monitor_.checker(name)) c->passive_failure("proxy: " + why);
  const TimePoint now = monitor_.loop().now();
  auto [it, first] = last_log_.try_emplace({s, b}, now);
  auto& last = it->second;
  if (on_log && (first || now - last >= std::chrono::seconds(1))) {
    last = now;
    on_log(svc, be, why);
  }
}

}  // namespace anycastd::proxy
