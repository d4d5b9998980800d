// The live devices' route tables, read over their control sockets and shown with the
// file's addresses, in the layouts the seeds print.
#include <algorithm>
#include <sstream>

#include "api/control_client.hpp"
#include "lab/live_proc.hpp"
#include "lab/sim_node.hpp"
#include "lab/table_build.hpp"

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
    if (r["med"].is_number()) x.med = r["med"].get<uint32_t>();
    if (r.contains("origin")) {
      auto o = r["origin"].get<std::string>();
      if (o == "egp") x.origin = "e";
      if (o == "incomplete") x.origin = "?";
    }
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

std::optional<DeviceTable> LiveLab::table(const std::string& name) const {
  TableSource src{plan_.topology(), plan_.nodes(),
                  [this](const SimLab::Node& n) -> std::optional<std::vector<RibRoute>> {
                    auto it = procs_.find(n.name);
                    if (it == procs_.end() || it->second->pid <= 0) return std::nullopt;
                    std::vector<RibRoute> out;
                    for (const auto& r : routes(n.name)) {
                      RibRoute x;
                      x.prefix = r.prefix;
                      if (!r.next_hop.is_unspecified()) x.next_hop = r.next_hop;
                      std::istringstream in(r.path);
                      for (std::string w; in >> w;) x.path.push_back(w);
                      if (auto f = IpAddress::parse(r.from)) x.from = unmap(*f);
                      x.best = r.best;
                      x.multipath = r.multipath;
                      x.local_pref = r.local_pref;
                      x.med = r.med;
                      x.origin = r.origin;
                      out.push_back(std::move(x));
                    }
                    return out;
                  },
                  [this](const IpAddress& a) { return this->device(a); }};
  return build_table(src, name);
}

std::vector<std::string> LiveLab::msee_routes(const std::string& circuit, const Prefix& p) const {
  std::vector<std::string> out;
  for (const auto& r : routes("msee-" + circuit))
    if (r.prefix == p) out.push_back(t_.show(r.next_hop).to_string() + " " + r.path);
  return out;
}

std::string LiveLab::msee_chosen_region(const std::string& circuit, const Prefix& p) const {
  for (const auto& r : routes("msee-" + circuit))
    if (r.prefix == p && r.best) {
      const auto* n = device(r.next_hop);
      return n && !n->region.empty() ? n->region : t_.show(r.next_hop).to_string();
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

}  // namespace anycastd::lab
