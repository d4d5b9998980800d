// What the simulated lab shows of its devices and what expectations ask of them.
#include <algorithm>

#include "lab/route_table.hpp"
#include "lab/sim_node.hpp"
#include "lab/table_build.hpp"

namespace anycastd::lab {

std::optional<DeviceTable> SimLab::table(const std::string& device) const {
  TableSource src{t_, nodes_,
                  [](const Node& n) -> std::optional<std::vector<RibRoute>> {
                    if (!n.bgp()) return std::nullopt;
                    return rib_routes(n.bgp()->rib());
                  },
                  [this](const IpAddress& a) { return by_address(a); }};
  return build_table(src, device);
}

std::vector<std::string> SimLab::msee_routes(const std::string& circuit, const Prefix& p) const {
  std::vector<std::string> out;
  const Node* n = by_name_.at("msee-" + circuit);
  if (!n->bgp()) return out;
  const rib::Entry* e = n->bgp()->rib().find(p);
  if (!e) return out;
  for (const auto* path : ranked(n->bgp()->rib(), *e)) {
    const auto& a = *path->attrs;
    out.push_back((a.next_hop ? t_.show(*a.next_hop).to_string() : "?") + " " +
                  (a.as_path ? a.as_path->to_string() : ""));
  }
  return out;
}

std::string SimLab::msee_chosen_region(const std::string& circuit, const Prefix& p) const {
  const Node* n = by_name_.at("msee-" + circuit);
  if (!n->bgp()) return "none";
  const rib::Entry* e = n->bgp()->rib().find(p);
  const rib::Path* best = e ? e->best() : nullptr;
  if (!best || !best->attrs->next_hop) return "none";
  const Node* via = by_address(*best->attrs->next_hop);
  return via && !via->region.empty() ? via->region : t_.show(*best->attrs->next_hop).to_string();
}

bool SimLab::route_server_has(const std::string& hub, const Prefix& p) const {
  for (const auto& n : nodes_)
    if (n->kind == Node::Kind::route_server && n->hub == hub && n->bgp()) {
      const rib::Entry* e = n->bgp()->rib().find(p);
      if (e && e->best() && e->best()->peer != rib::kLocal) return true;
    }
  return false;
}

}  // namespace anycastd::lab
