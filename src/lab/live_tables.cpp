// The live devices' route tables, read over their control sockets and shown with the
// file's addresses, in the layouts the seeds print.
#include <algorithm>
#include <sstream>

#include "api/control_client.hpp"
#include "lab/live_proc.hpp"
#include "lab/route_table.hpp"
#include "lab/sim_node.hpp"

namespace anycastd::lab {

using Kind = SimLab::Node::Kind;

std::vector<LiveLab::Route> LiveLab::routes(const std::string& device) const {
  std::vector<Route> out;
  auto it = procs_.find(device);
  if (it == procs_.end()) return out;
  std::string err;
  auto j = api::ask(it->second->sock, {{"command", "show routes"}}, err, std::chrono::seconds(5));
  if (!j || !(*j)["ok"].get<bool>()) return out;
  for (const auto& r : (*j)["routes"]) {
    Route x;
    x.prefix = unmap(*Prefix::parse(r["prefix"].get<std::string>()));
    auto nh = IpAddress::parse(r["next_hop"].get<std::string>());
    x.next_hop = nh ? unmap(*nh) : IpAddress{};
    x.path = r["as_path"].get<std::string>();
    x.from = r["from"].get<std::string>();
    x.best = r["best"].get<bool>();
    x.multipath = r["multipath"].get<bool>();
    if (r["local_pref"].is_number()) x.local_pref = r["local_pref"].get<uint32_t>();
    out.push_back(x);
  }
  // As the simulated table ranks them: the chosen route first, then shorter paths, then
  // lower next hops.
  std::stable_sort(out.begin(), out.end(), [](const Route& a, const Route& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (a.best != b.best) return a.best;
    auto len = [](const std::string& p) {
      return p.empty() ? 0 : std::count(p.begin(), p.end(), ' ') + 1;
    };
    if (len(a.path) != len(b.path)) return len(a.path) < len(b.path);
    return a.next_hop < b.next_hop;
  });
  return out;
}

std::string LiveLab::table(const std::string& device) const {
  std::vector<AzRow> rows;
  for (const auto& r : routes(device))
    rows.push_back({std::to_string(r.local_pref.value_or(100)), r.prefix.to_string(),
                    r.next_hop.to_string() + (r.best || r.multipath ? "*" : ""), r.path, "0"});
  return az_table(rows);
}

std::string LiveLab::msee_table(const std::string& circuit) const {
  return table("msee-" + circuit);
}
std::string LiveLab::router_table(const std::string& router) const {
  return table(router);
}

std::vector<std::string> LiveLab::msee_routes(const std::string& circuit, const Prefix& p) const {
  std::vector<std::string> out;
  for (const auto& r : routes("msee-" + circuit))
    if (r.prefix == p) out.push_back(r.next_hop.to_string() + " " + r.path);
  return out;
}

std::string LiveLab::msee_chosen_region(const std::string& circuit, const Prefix& p) const {
  for (const auto& r : routes("msee-" + circuit))
    if (r.prefix == p && r.best) {
      const auto* n = device(r.next_hop);
      return n && !n->region.empty() ? n->region : r.next_hop.to_string();
    }
  return "none";
}

bool LiveLab::route_server_has(const std::string& hub, const Prefix& p) const {
  for (const auto& [name, proc] : procs_)
    if (proc->node->kind == Kind::route_server && proc->node->hub == hub)
      for (const auto& r : routes(name))
        if (r.prefix == p && r.best && r.from != "local") return true;
  return false;
}

std::string LiveLab::route_server_table(const std::string& hub) const {
  std::ostringstream o;
  int role = 0;
  for (const auto& n : plan_.nodes()) {
    if (n->kind != Kind::route_server || n->hub != hub) continue;
    o << "RouteServiceRole_IN_" << role++ << " (" << n->name << ", " << n->address.to_string()
      << ")\n";
    bool any = false;
    for (const auto& r : routes(n->name)) {
      auto from = IpAddress::parse(r.from);
      const auto* peer = from ? device(unmap(*from)) : nullptr;
      if (!peer || peer->kind != Kind::nva) continue;
      any = true;
      std::string path = r.path;
      std::replace(path.begin(), path.end(), ' ', '-');
      o << "  network " << r.prefix.to_string() << "  nextHop " << r.next_hop.to_string()
        << "  asPath " << path << "  sourcePeer " << peer->address.to_string() << " (" << peer->name
        << ")\n";
    }
    if (!any) o << "  (no routes learned from NVAs)\n";
  }
  return o.str();
}

}  // namespace anycastd::lab
