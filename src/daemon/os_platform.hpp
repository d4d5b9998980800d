#pragma once
// The machine anycastd runs on: exec checks, the kernel's routes and addresses over
// netlink, the proxy engine's threads, the control socket and metrics on the Asio loop,
// and systemd. Addresses it put on `lo` are taken off again when it goes.
#include <vector>

#include "api/control_socket.hpp"
#include "api/metrics_http.hpp"
#include "daemon/platform.hpp"
#include "daemon/service_manager.hpp"
#include "fib/netlink_address.hpp"
#include "runtime/asio/asio_transport.hpp"

namespace anycastd::daemon {

class OsPlatform : public Platform {
 public:
  OsPlatform(rt::AsioLoop& loop, rt::AsioTransport& transport);
  ~OsPlatform() override;

  std::unique_ptr<health::Probe> probe(const health::CheckConfig& c) override;
  Result<std::unique_ptr<fib::FibWriter>, std::string> kernel_routes(
      const fib::FibConfig& c) override;
  Result<std::unique_ptr<proxy::Forwarder>, std::string> forwarding(
      const proxy::ProxyConfig& c, proxy::BackendFailure failed) override;
  void serve(const config::Config& c, std::function<api::Parts()> parts) override;
  void ready() override { systemd_.ready(); }
  void stopping(const std::string& why) override { systemd_.stopping(why); }

 private:
  Status<> add_addresses(const proxy::ProxyConfig& c);

  rt::AsioLoop& loop_;
  rt::AsioTransport& transport_;
  double started_unix_;
  ServiceManager systemd_;
  std::unique_ptr<fib::NetlinkAddress> aliases_;
  std::vector<IpAddress> added_;  // only ours: removed again at exit
  std::unique_ptr<api::ControlSocket> control_;
  std::unique_ptr<api::MetricsHttp> metrics_;
};

}  // namespace anycastd::daemon
