#pragma once
// The control API's requests and answers, as JSON documents and without I/O: the control
// socket (control_socket) carries them, anycastctl prints them. Every answer has "ok";
// a failed one has "error", a sentence for the operator.
#include <nlohmann/json.hpp>

#include "bgp/speaker.hpp"
#include "health/monitor.hpp"
#include "proxy/engine.hpp"

namespace anycastd::api {

// What the daemon runs; any part may be absent (no checks, no services).
struct Daemon {
  Loop* loop = nullptr;
  bgp::Speaker* speaker = nullptr;
  health::Monitor* monitor = nullptr;
  proxy::Engine* engine = nullptr;
};

// Commands: "show peers", "show routes" ("prefix", "peer", "view": loc-rib, received or
// advertised), "show vips", "show health", "show proxy", "drain" and "undrain"
// (with "vip": a configured prefix).
nlohmann::json handle(const nlohmann::json& request, const Daemon& d);

}  // namespace anycastd::api
