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
  const auto& last = c.state().last();
  const health::AgentReply* agent = last && last->agent ? &*last->agent : nullptr;
  if (!flipped && !agent) return;
  const auto& svcs = engine_.config().services;
  for (size_t s = 0; s < svcs.size(); ++s)
    for (size_t b = 0; b < svcs[s].backends.size(); ++b) {
      const auto& checks = svcs[s].backends[b].checks;
      if (std::find(checks.begin(), checks.end(), c.config().name) == checks.end()) continue;
      if (flipped) engine_.set_backend_health(s, b, healthy(svcs[s].backends[b]));
      if (agent) apply_agent(s, b, *agent, c.config().name);
    }
}

// The agent speaks for its backend as the operator does (HAProxy's agent-check): the last
// word, the agent's or the operator's, stands.
void HealthLink::apply_agent(size_t s, size_t b, const health::AgentReply& a,
                             const std::string& check) {
  const auto& be = engine_.config().services[s].backends[b];
  bool changed = false;
  if (a.admin)
    changed |=
        engine_.set_backend_admin(s, b,
                                  *a.admin == health::AgentAdmin::ready   ? AdminState::ready
                                  : *a.admin == health::AgentAdmin::drain ? AdminState::drain
                                                                          : AdminState::maint);
  if (a.weight_percent)
    changed |=
        engine_.set_backend_weight(s, b,
                                   static_cast<uint32_t>(std::min<uint64_t>(
                                       kMaxWeight, uint64_t{be.weight} * *a.weight_percent / 100)));
  // The same answer again, every interval, costs no statistics read (a nat service's come
  // from the kernel).
  if (!changed || !on_change) return;
  const auto after = engine_.stats(s).backends.at(b);
  on_change(engine_.config().services[s], be,
            std::string(to_string(after.admin)) + " with weight " + std::to_string(after.weight) +
                " (set by its agent check " + check + ")");
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
