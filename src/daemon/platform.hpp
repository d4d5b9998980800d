#pragma once
// What the daemon needs from the machine besides a loop and a transport: probes that may
// run programs, the kernel's routing table, the proxy's forwarding, the control endpoints
// and the service manager. The OS platform gives the real ones; the simulated lab gives
// its own, so that both run the same Daemon.
#include <functional>
#include <memory>
#include <string>

#include "api/control.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "fib/fib_sync.hpp"
#include "health/probe.hpp"
#include "proxy/forwarder.hpp"

namespace anycastd::daemon {

class Platform {
 public:
  virtual ~Platform() = default;

  // The probe for one check.
  virtual std::unique_ptr<health::Probe> probe(const health::CheckConfig& c) = 0;
  // The kernel table the best routes go to (fib.kernel), rid of what an earlier run left.
  virtual Result<std::unique_ptr<fib::FibWriter>, std::string> kernel_routes(
      const fib::FibConfig& c) = 0;
  // The proxy's services, listening. `failed` is called on the daemon's loop.
  virtual Result<std::unique_ptr<proxy::Forwarder>, std::string> forwarding(
      const proxy::ProxyConfig& c, proxy::BackendFailure failed) = 0;
  // The control socket and the metrics endpoint for the running parts; failing to open
  // either is logged, not fatal: routing goes on without them.
  virtual void serve(const config::Config&, std::function<api::Parts()> /*parts*/) {}
  virtual void ready() {}
  virtual void stopping(const std::string& /*why*/) {}
};

}  // namespace anycastd::daemon
