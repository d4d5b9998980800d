#include "lab/backend_action.hpp"

namespace anycastd::lab {

std::optional<Endpoint> lab_backend(const Topology& t, const std::string& name) {
  for (const auto& g : t.regions)
    for (const auto& b : g.backends)
      if (b.name == name) return b.at;
  return std::nullopt;
}

nlohmann::json backend_request(const Action& a, const std::string& backend) {
  nlohmann::json req = {{"command", "backend"}, {"service", a.service}, {"backend", backend}};
  if (a.weight)
    req["weight"] = *a.weight;
  else
    req["state"] = a.state;
  return req;
}

}  // namespace anycastd::lab
