#pragma once
// The machine under a simulated NVA's daemon: probes over the lab's links, the lab's
// proxy with the real balancers, no kernel table and no control endpoints.
#include <functional>
#include <string>

#include "daemon/platform.hpp"
#include "runtime/transport.hpp"

namespace anycastd::lab {

class SimPlatform : public daemon::Platform {
 public:
  // `error` tells the lab's timeline what cannot run here.
  SimPlatform(Loop& loop, Transport& transport, std::function<void(std::string)> error)
      : loop_(loop), transport_(transport), error_(std::move(error)) {}

  std::unique_ptr<health::Probe> probe(const health::CheckConfig& c) override;
  Result<std::unique_ptr<fib::FibWriter>, std::string> kernel_routes(
      const fib::FibConfig& c) override;
  Result<std::unique_ptr<proxy::Forwarder>, std::string> forwarding(
      const proxy::ProxyConfig& c, proxy::BackendFailure failed) override;

 private:
  Loop& loop_;
  Transport& transport_;
  std::function<void(std::string)> error_;
};

}  // namespace anycastd::lab
