#include "lab/sim_forwarder.hpp"

namespace anycastd::lab {

SimForwarder::SimForwarder(proxy::ProxyConfig cfg) : cfg_(std::move(cfg)) {
  // Least connections keeps a pointer into its service: no reallocation after this.
  services_.reserve(cfg_.services.size());
  for (const auto& s : cfg_.services) {
    auto& svc = services_.emplace_back();
    for (const auto& b : s.backends) {
      svc.control.push_back({true, proxy::AdminState::ready, b.weight});
      svc.views.push_back(proxy::effective_view(b, svc.control.back()));
      svc.stats.backends.emplace_back().weight = b.weight;
    }
    // It reads the open connections the lab counts, as the engine's threads read their
    // shared counts.
    svc.balancer =
        proxy::make_balancer(s.balance, s.hash, svc.views, nullptr,
                             [st = &svc.stats](uint32_t b) { return st->backends.at(b).active; });
  }
}

std::optional<size_t> SimForwarder::service_for(const Endpoint& to, const IpAddress& self) const {
  for (size_t i = 0; i < cfg_.services.size(); ++i) {
    const auto& l = cfg_.services[i].listen;
    if (l.port != to.port) continue;
    if (l.address == to.address || l.address == self || l.address == IpAddress{}) return i;
  }
  return std::nullopt;
}

std::optional<uint32_t> SimForwarder::open(size_t service, const proxy::FlowKey& k) {
  auto& s = services_.at(service);
  if (s.draining) {
    ++s.stats.refused;
    return std::nullopt;
  }
  auto b = s.balancer->pick(k);
  if (!b) return std::nullopt;
  s.balancer->opened(*b);
  ++s.stats.connections;
  ++s.stats.active;
  ++s.stats.backends[*b].connections;
  ++s.stats.backends[*b].active;
  return b;
}

void SimForwarder::close(size_t service, uint32_t backend) {
  auto& s = services_.at(service);
  s.balancer->closed(backend);
  --s.stats.active;
  --s.stats.backends.at(backend).active;
}

void SimForwarder::set_backend_health(size_t service, size_t backend, bool healthy) {
  auto& s = services_.at(service);
  if (s.control.at(backend).healthy == healthy) return;
  s.control[backend].healthy = healthy;
  republish(service);
}

bool SimForwarder::set_backend_admin(size_t service, size_t backend, proxy::AdminState state) {
  auto& c = services_.at(service).control.at(backend);
  if (c.admin == state) return false;
  c.admin = state;
  republish(service);
  return true;
}

bool SimForwarder::set_backend_weight(size_t service, size_t backend, uint32_t weight) {
  auto& c = services_.at(service).control.at(backend);
  if (c.weight == weight) return false;
  c.weight = weight;
  republish(service);
  return true;
}

Result<proxy::BackendChanges, std::string> SimForwarder::reconfigure_backends(
    size_t service, const std::vector<proxy::BackendConfig>& backends) {
  auto& s = services_.at(service);
  auto& cfg = cfg_.services.at(service);
  proxy::BackendSlots slots{cfg.backends, s.control};
  auto changes = proxy::plan_backends(slots, backends, {}, {}, 256);
  if (!changes || changes->empty()) return changes;
  cfg.backends = std::move(slots.configs);
  s.control = std::move(slots.control);
  s.views.resize(s.control.size());
  s.stats.backends.resize(s.control.size());
  republish(service);
  return changes;
}

void SimForwarder::republish(size_t service) {
  auto& s = services_.at(service);
  const auto& cfg = cfg_.services.at(service);
  for (size_t b = 0; b < s.control.size(); ++b) {
    s.views[b] = proxy::effective_view(cfg.backends[b], s.control[b]);
    s.stats.backends[b].healthy = s.control[b].healthy;
    s.stats.backends[b].admin = s.control[b].admin;
    s.stats.backends[b].weight = s.control[b].weight;
    s.stats.backends[b].removed = s.control[b].removed;
  }
  s.balancer->update(s.views);
}

void SimForwarder::drain_all() {
  for (auto& s : services_) s.draining = true;
}

uint64_t SimForwarder::active_connections() const {
  uint64_t n = 0;
  for (const auto& s : services_) n += s.stats.active;
  return n;
}

proxy::ServiceStats SimForwarder::stats(size_t service) const {
  auto st = services_.at(service).stats;
  st.draining = services_.at(service).draining;
  return st;
}

}  // namespace anycastd::lab
