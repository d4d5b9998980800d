#include "lab/sim_platform.hpp"

#include "lab/sim_forwarder.hpp"

namespace anycastd::lab {

std::unique_ptr<health::Probe> SimPlatform::probe(const health::CheckConfig& c) {
  if (c.type == health::CheckType::exec || c.type == health::CheckType::haproxy ||
      c.type == health::CheckType::agent) {
    error_("check " + c.name + " cannot run in sim mode (tcp, http, dns only)");
    return health::make_tcp_probe(loop_, transport_, c);
  }
  return health::make_network_probe(loop_, transport_, c);
}

Result<std::unique_ptr<fib::FibWriter>, std::string> SimPlatform::kernel_routes(
    const fib::FibConfig&) {
  return Err(std::string("the simulated lab has no kernel routing table (fib.kernel)"));
}

Result<std::unique_ptr<proxy::Forwarder>, std::string> SimPlatform::forwarding(
    const proxy::ProxyConfig& c, proxy::BackendFailure) {
  // The lab's connections never fail at connect: a failed backend answers 503 instead.
  return std::unique_ptr<proxy::Forwarder>(std::make_unique<SimForwarder>(c));
}

}  // namespace anycastd::lab
