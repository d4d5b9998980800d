#include "lab/table_build.hpp"

#include <algorithm>
#include <sstream>

#include "lab/route_table.hpp"
#include "lab/sim_node.hpp"

namespace anycastd::lab {

using Kind = SimLab::Node::Kind;

namespace {

// The weight the CLI shows on every route a route server or gateway learned.
constexpr uint32_t kAzureWeight = 32768;

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string origin_code(std::optional<uint8_t> o) {
  if (!o || *o == 0) return "i";
  return *o == 1 ? "e" : "?";
}

const SimLab::Node* named(const TableSource& s, const std::string& name) {
  for (const auto& n : s.nodes)
    if (n->name == name) return n.get();
  return nullptr;
}

std::vector<const SimLab::Node*> of_hub(const TableSource& s, Kind k, const std::string& hub) {
  std::vector<const SimLab::Node*> out;
  for (const auto& n : s.nodes)
    if (n->kind == k && n->hub == hub) out.push_back(n.get());
  return out;
}

// `t`, when there is one, shows aliased next hops as the file's addresses.
TableRow base_row(const Topology* t, const RibRoute& r) {
  TableRow x;
  x.prefix = r.prefix;
  // An originated route has no next hop worth showing (FRR prints 0.0.0.0, the CLI blank).
  x.next_hop = r.from && r.next_hop ? (t ? t->show(*r.next_hop) : *r.next_hop).to_string() : "";
  x.path = r.path;
  x.local_pref = r.local_pref;
  x.med = r.med;
  x.best = r.best;
  x.ecmp = r.multipath;
  x.bgp_origin = r.origin;
  return x;
}

// Where a learned route came from, in the CLI's words: EBgp, IBgp or Network.
void source(const TableSource& s, const SimLab::Node& self, const RibRoute& r, TableRow& x) {
  if (!r.from) {
    x.origin = "Network";
    x.source_peer = s.topology.show(self.address).to_string();
    x.source_name = self.name;
    return;
  }
  const auto* peer = s.at(*r.from);
  x.source_peer = s.topology.show(*r.from).to_string();
  x.source_name = peer ? peer->name : x.source_peer;
  bool internal = peer && (peer->kind == Kind::route_server || peer->kind == Kind::gateway) &&
                  (self.kind == Kind::route_server || self.kind == Kind::gateway);
  x.origin = internal ? "IBgp" : "EBgp";
}

DeviceTable msee(const TableSource& s, const MseeSpec& c) {
  DeviceTable t{"msee-" + c.name, "msee", "MSEE " + c.name + " (AS" + std::to_string(c.asn) + ")",
                c.table_format,   {},     false};
  const auto* n = named(s, t.device);
  auto routes = n ? s.routes(*n) : std::nullopt;
  if (!routes) {
    t.down = true;
    return t;
  }
  t.rows = msee_rows(*routes, &s.topology);
  // Which gateway instance each route came from (two hubs may share addresses).
  for (size_t i = 0; i < t.rows.size(); ++i) source(s, *n, (*routes)[i], t.rows[i]);
  // The 2021 CLI listed a prefix's paths by next hop, the chosen one wherever it fell.
  if (t.format == "az-route-table-2021")
    std::stable_sort(t.rows.begin(), t.rows.end(), [](const TableRow& a, const TableRow& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      auto x = IpAddress::parse(a.next_hop), y = IpAddress::parse(b.next_hop);
      return x && y ? *x < *y : a.next_hop < b.next_hop;
    });
  return t;
}

DeviceTable router(const TableSource& s, const RouterSpec& o) {
  DeviceTable t{o.name,
                "router",
                "router " + o.name + " (AS" + std::to_string(o.asn) +
                    (o.ecmp > 1 ? ", ECMP " + std::to_string(o.ecmp) : "") + ")",
                "frr",
                {},
                false};
  const auto* n = named(s, o.name);
  auto routes = n ? s.routes(*n) : std::nullopt;
  if (!routes) {
    t.down = true;
    return t;
  }
  for (const auto& r : *routes) {
    auto x = base_row(&s.topology, r);
    source(s, *n, r, x);
    if (!r.from) x.weight = kAzureWeight;  // FRR's weight for a locally originated route too
    t.rows.push_back(x);
  }
  return t;
}

// What each instance of a hub's route servers or gateways learned, as the CLI lists it per
// instance; `keep` picks the routes shown. Down only when every instance is.
DeviceTable per_instance(const TableSource& s, DeviceTable t, Kind k, const HubSpec& h,
                         const std::string& role,
                         const std::function<bool(const RibRoute&)>& keep) {
  auto instances = of_hub(s, k, h.name);
  size_t up = 0;
  for (size_t i = 0; i < instances.size(); ++i) {
    auto routes = s.routes(*instances[i]);
    if (!routes) continue;
    ++up;
    for (const auto& r : *routes) {
      if (!keep(r)) continue;
      auto x = base_row(&s.topology, r);
      source(s, *instances[i], r, x);
      x.weight = kAzureWeight;
      x.local_address = s.topology.show(instances[i]->address).to_string();
      x.instance = role + std::to_string(i);
      t.rows.push_back(x);
    }
  }
  t.down = up == 0;
  return t;
}

// A Virtual WAN hub router's effective routes: what its first gateway instance forwards on,
// spokes named as their connections; the hub's own address space is not a route there.
DeviceTable vhub(const TableSource& s, const HubSpec& h) {
  DeviceTable t{h.name, "vwan-hub", "Virtual WAN hub " + h.name, "vhub-effective-routes",
                {},     false};
  auto instances = of_hub(s, Kind::gateway, h.name);
  auto routes = instances.empty() ? std::nullopt : s.routes(*instances.front());
  if (!routes) {
    t.down = true;
    return t;
  }
  for (const auto& r : *routes) {
    if (!r.from && std::find(h.prefixes.begin(), h.prefixes.end(), r.prefix) != h.prefixes.end())
      continue;
    auto x = base_row(&s.topology, r);
    source(s, *instances.front(), r, x);
    if (!r.from)
      for (const auto& sp : h.spokes)
        if (sp.prefix == r.prefix) x.source_name = sp.name;
    x.weight = kAzureWeight;
    x.local_address = s.topology.show(instances.front()->address).to_string();
    x.instance = "Instance0";
    t.rows.push_back(x);
  }
  return t;
}

}  // namespace

std::optional<DeviceTable> build_table(const TableSource& s, const std::string& device) {
  for (const auto& c : s.topology.circuits)
    if (device == "msee-" + c.name || device == c.name) return msee(s, c);
  for (const auto& o : s.topology.routers)
    if (device == o.name) return router(s, o);
  for (const auto& g : s.topology.regions) {
    const auto& h = g.hub;
    if (device == h.name + "-gw" && !h.gateways.empty())
      return per_instance(s,
                          {h.name + "-gw",
                           "er-gateway",
                           "ExpressRoute gateway " + h.name + "-gw",
                           "gateway-learned-routes",
                           {},
                           false},
                          Kind::gateway, h, "Instance", [](const RibRoute&) { return true; });
    if (device != h.name) continue;
    if (h.vwan) return vhub(s, h);
    // The routes the hub's NVAs gave its route servers.
    if (!h.route_servers.empty())
      return per_instance(
          s, {h.name, "route-server", "route server " + h.name, "learned-routes-json", {}, false},
          Kind::route_server, h, "RouteServiceRole_IN_", [&s](const RibRoute& r) {
            const auto* peer = r.from ? s.at(*r.from) : nullptr;
            return peer && peer->kind == Kind::nva;
          });
  }
  return std::nullopt;
}

std::vector<std::string> shown_devices(const Topology& t, bool all) {
  std::vector<std::string> out;
  for (const auto& c : t.circuits) out.push_back("msee-" + c.name);
  for (const auto& o : t.routers) out.push_back(o.name);
  for (const auto& g : t.regions) {
    if (g.hub.vwan || (!g.hub.route_servers.empty() && (all || !g.nvas.empty())))
      out.push_back(g.hub.name);
    if (all && !g.hub.gateways.empty()) out.push_back(g.hub.name + "-gw");
  }
  return out;
}

std::vector<std::string> table_devices(const Topology& t) {
  auto out = shown_devices(t, true);
  for (const auto& c : t.circuits) out.push_back(c.name);
  return out;
}

std::vector<TableRow> msee_rows(const std::vector<RibRoute>& routes, const Topology* t) {
  std::vector<TableRow> rows;
  for (const auto& r : routes) {
    auto x = base_row(t, r);
    if (!x.local_pref) x.local_pref = 100;
    rows.push_back(x);
  }
  return rows;
}

std::vector<RibRoute> rib_routes(const rib::Rib& rib) {
  std::vector<RibRoute> out;
  std::map<Prefix, const rib::Entry*> sorted;
  for (const auto& [prefix, e] : rib.loc_rib()) sorted.emplace(prefix, &e);
  for (const auto& [prefix, e] : sorted)
    for (const rib::Path* p : ranked(rib, *e)) {
      const auto& a = *p->attrs;
      RibRoute r;
      r.prefix = prefix;
      r.next_hop = a.next_hop;
      if (a.as_path) r.path = words(a.as_path->to_string());
      if (p->peer != rib::kLocal) r.from = rib.neighbour(p->peer).address;
      r.best = p->best;
      r.multipath = p->multipath;
      r.local_pref = a.local_pref;
      r.med = a.med;
      r.origin = origin_code(a.origin);
      out.push_back(r);
    }
  return out;
}

}  // namespace anycastd::lab
