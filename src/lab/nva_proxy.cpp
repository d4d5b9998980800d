#include "lab/nva_proxy.hpp"

#include <set>

namespace anycastd::lab {

proxy::ProxyConfig nva_proxy(const Topology& t, const SimLab::Node& n) {
  proxy::ProxyConfig c = n.nva->config.proxy;
  c.threads = 1;
  if (!c.services.empty()) return c;
  std::set<uint16_t> ports;
  for (const auto& cl : t.clients) ports.insert(cl.target.port);
  for (uint16_t port : ports) {
    proxy::ServiceConfig svc;
    svc.name = "lab-" + std::to_string(port);
    svc.listen = {n.address, port};
    for (const auto& g : t.regions)
      if (g.name == n.region)
        for (const auto& b : g.backends) {
          proxy::BackendConfig bc;
          bc.endpoint = b.at;
          for (const auto& ch : n.nva->config.health.checks)
            if (ch.target == b.at) bc.checks.push_back(ch.name);
          svc.backends.push_back(bc);
        }
    if (!svc.backends.empty()) c.services.push_back(svc);
  }
  return c;
}

}  // namespace anycastd::lab
