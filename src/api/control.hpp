#pragma once
// The control API's requests and answers, as JSON documents and without I/O: the control
// socket (control_socket) carries them, anycastctl prints them. Every answer has "ok";
// a failed one has "error", a sentence for the operator.
#include <nlohmann/json.hpp>

#include "api/reload_report.hpp"
#include "bgp/speaker.hpp"
#include "health/monitor.hpp"
#include "proxy/forwarder.hpp"

namespace anycastd::api {

// What the daemon runs; any part may be absent (no checks, no services).
struct Parts {
  Loop* loop = nullptr;
  bgp::Speaker* speaker = nullptr;
  health::Monitor* monitor = nullptr;
  proxy::Forwarder* forwarder = nullptr;
  // Reads the configuration file again and applies what may change without a restart;
  // the answer says what changed, or why nothing did.
  std::function<ReloadReport()> reload;
  // True once the daemon is stopping (draining, then withdrawing, before it exits).
  std::function<bool()> stopping;
};

// Commands: "show peers", "show routes" ("prefix", "peer", "view": loc-rib, received or
// advertised), "show vips", "show health", "show proxy", "drain", "undrain" and "reload"
// (with "vip": a configured prefix).
nlohmann::json handle(const nlohmann::json& request, const Parts& d);
nlohmann::json to_json(const ReloadReport& r);

}  // namespace anycastd::api
