#pragma once
// Ties the proxy to the health checks: a backend serves only while all of its checks are
// up, and a connect the proxy saw fail makes those checks look again at once (passive
// health), so a crashed backend stops getting connections within one fast re-check.
// Runs on the control loop; the engine's failure reports must be posted there.
#include <chrono>
#include <map>

#include "health/monitor.hpp"
#include "proxy/forwarder.hpp"

namespace anycastd::proxy {

class HealthLink {
 public:
  HealthLink(health::Monitor& monitor, Forwarder& forwarder);
  // Publishes every backend's state; call once the checks exist, before traffic matters.
  void refresh();
  void on_check(const health::Checker& c, bool flipped);
  void on_failure(size_t service, size_t backend, const std::string& why);

  // Told when an agent check changed a backend's admin state or weight, with the new ones.
  std::function<void(const ServiceConfig&, const BackendConfig&, const std::string&)> on_change;

  // Told of each passive failure acted on, for the log (at most one a second a backend,
  // by the monitor's loop's clock). A report for a service or backend that no longer
  // exists (the configuration changed while it was on its way) is dropped.
  std::function<void(const ServiceConfig&, const BackendConfig&, const std::string&)> on_log;

 private:
  bool healthy(const BackendConfig& b) const;
  void apply_agent(size_t service, size_t backend, const health::AgentReply& a,
                   const std::string& check);

  health::Monitor& monitor_;
  Forwarder& engine_;
  // On the loop's clock, so that the lab's virtual time governs the rate as well.
  std::map<std::pair<size_t, size_t>, TimePoint> last_log_;
};

}  // namespace anycastd::proxy
