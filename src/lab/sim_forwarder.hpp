#pragma once
// The proxy of a simulated NVA: the daemon's forwarding with the real balancers (round
// robin, least connections, Maglev) choosing each flow's backend, and the lab carrying
// the bytes. The daemon's health link publishes backend health to it as to the engine.
#include <memory>
#include <optional>
#include <vector>

#include "proxy/balancer.hpp"
#include "proxy/forwarder.hpp"

namespace anycastd::lab {

class SimForwarder : public proxy::Forwarder {
 public:
  explicit SimForwarder(proxy::ProxyConfig cfg);

  // The service that takes a connection to `to` on the NVA at `self`, if any.
  std::optional<size_t> service_for(const Endpoint& to, const IpAddress& self) const;
  // A new connection's backend (counted open until closed), or none in rotation.
  std::optional<uint32_t> open(size_t service, const proxy::FlowKey& k);
  void close(size_t service, uint32_t backend);

  const proxy::ProxyConfig& config() const override { return cfg_; }
  size_t threads() const override { return 1; }
  void set_backend_health(size_t service, size_t backend, bool healthy) override;
  bool set_backend_admin(size_t service, size_t backend, proxy::AdminState state) override;
  bool set_backend_weight(size_t service, size_t backend, uint32_t weight) override;
  // The lab's connections are its clients' requests, each closed when answered.
  void close_backend_connections(size_t, size_t) override {}
  void drain(size_t service) override { services_.at(service).draining = true; }
  void undrain(size_t service) override { services_.at(service).draining = false; }
  void drain_all() override;
  uint64_t active_connections() const override;
  proxy::ServiceStats stats(size_t service) const override;
  // The lab's connections are answered at once: a removed backend has none to drain.
  Result<proxy::BackendChanges, std::string> reconfigure_backends(
      size_t service, const std::vector<proxy::BackendConfig>& backends) override;

 private:
  struct Service {
    std::vector<proxy::BackendControl> control;
    std::vector<proxy::BackendView> views;  // effective_view() of each
    std::unique_ptr<proxy::Balancer> balancer;
    proxy::ServiceStats stats;
    bool draining = false;
  };
  void republish(size_t service);

  proxy::ProxyConfig cfg_;
  std::vector<Service> services_;
};

}  // namespace anycastd::lab
