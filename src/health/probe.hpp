#pragma once
// One kind of check, run once per call. Probes run on the event loop (Transport streams,
// timers), never on a thread of their own, so they also run in the simulator.
#include <functional>
#include <memory>

#include "health/check_config.hpp"
#include "health/check_result.hpp"
#include "runtime/loop.hpp"

namespace anycastd::health {

class Probe {
 public:
  virtual ~Probe() = default;
  // Runs one check; `done` is called once, on the loop, unless cancel() comes first. The
  // Checker enforces the timeout by cancelling.
  virtual void start(std::function<void(CheckResult)> done) = 0;
  virtual void cancel() = 0;
  // True while the probe keeps a connection open between checks (HTTP keep-alive); the
  // Checker then needs no watch connection of its own.
  virtual bool holds_connection() const { return false; }
  // Called when that kept connection closes or resets between checks.
  std::function<void(const std::string& reason)> on_lost;
};

// TCP connect; HTTP/1.1 GET with status and body checks; a DNS query over UDP; a server's
// status in HAProxy's stats.
std::unique_ptr<Probe> make_tcp_probe(Loop& loop, Transport& t, const CheckConfig& cfg);
std::unique_ptr<Probe> make_http_probe(Loop& loop, Transport& t, const CheckConfig& cfg);
std::unique_ptr<Probe> make_dns_probe(Loop& loop, Transport& t, const CheckConfig& cfg);
std::unique_ptr<Probe> make_haproxy_probe(Loop& loop, Transport& t, const CheckConfig& cfg);
std::unique_ptr<Probe> make_agent_probe(Loop& loop, Transport& t, const CheckConfig& cfg);

// The probe for cfg.type, except exec (make_exec_probe, which needs no transport).
std::unique_ptr<Probe> make_network_probe(Loop& loop, Transport& t, const CheckConfig& cfg);

// Classifies a connect error text into a Failure.
Failure classify_socket_error(const std::string& reason);

}  // namespace anycastd::health
