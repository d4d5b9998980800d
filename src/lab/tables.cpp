// What the lab shows of its devices, in the columns the Azure CLI prints.
#include <algorithm>
#include <sstream>

#include "lab/route_table.hpp"
#include "lab/sim_node.hpp"

namespace anycastd::lab {

std::string SimLab::msee_table(const std::string& circuit) const {
  const Node* n = by_name_.at("msee-" + circuit);
  if (!n->bgp()) return "(" + n->name + " is down)\n";
  return az_route_table(n->bgp()->rib());
}

std::string SimLab::router_table(const std::string& router) const {
  const Node* n = by_name_.at(router);
  if (!n->bgp()) return "(" + n->name + " is down)\n";
  return az_route_table(n->bgp()->rib());
}

std::vector<std::string> SimLab::msee_routes(const std::string& circuit, const Prefix& p) const {
  std::vector<std::string> out;
  const Node* n = by_name_.at("msee-" + circuit);
  if (!n->bgp()) return out;
  const rib::Entry* e = n->bgp()->rib().find(p);
  if (!e) return out;
  for (const auto* path : ranked(n->bgp()->rib(), *e)) {
    const auto& a = *path->attrs;
    out.push_back((a.next_hop ? a.next_hop->to_string() : "?") + " " +
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
  return via && !via->region.empty() ? via->region : best->attrs->next_hop->to_string();
}

bool SimLab::route_server_has(const std::string& hub, const Prefix& p) const {
  for (const auto& n : nodes_)
    if (n->kind == Node::Kind::route_server && n->hub == hub && n->bgp()) {
      const rib::Entry* e = n->bgp()->rib().find(p);
      if (e && e->best() && e->best()->peer != rib::kLocal) return true;
    }
  return false;
}

// `az network routeserver peering list-learned-routes`: per instance, the routes each
// NVA gave it.
std::string SimLab::route_server_table(const std::string& hub) const {
  std::ostringstream o;
  int role = 0;
  for (const auto& n : nodes_) {
    if (n->kind != Node::Kind::route_server || n->hub != hub) continue;
    o << "RouteServiceRole_IN_" << role++ << " (" << n->name << ", " << n->address.to_string()
      << ")\n";
    if (!n->bgp()) {
      o << "  (down)\n";
      continue;
    }
    bool any = false;
    for (size_t i = 0; i < n->bgp()->peer_count(); ++i) {
      const auto& pc = n->speaker_cfg.peers[i];
      const Node* peer = by_address(pc.address);
      if (!peer || peer->kind != Node::Kind::nva) continue;
      for (const auto& [prefix, r] : n->bgp()->received(i)) {
        any = true;
        std::string path = r.attrs.as_path ? r.attrs.as_path->to_string() : "";
        std::replace(path.begin(), path.end(), ' ', '-');  // the portal's "65010-65010-65010"
        o << "  network " << prefix.to_string() << "  nextHop " << r.next_hop.to_string()
          << "  asPath " << path << "  sourcePeer " << pc.address.to_string() << " (" << peer->name
          << ")\n";
      }
    }
    if (!any) o << "  (no routes learned from NVAs)\n";
  }
  return o.str();
}

}  // namespace anycastd::lab
