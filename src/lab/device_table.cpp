#include "lab/device_table.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace anycastd::lab {

using nlohmann::json;

namespace {

const std::set<std::string> kFormats{"az-route-table",        "az-route-table-2021",
                                     "learned-routes-json",   "gateway-learned-routes",
                                     "vhub-effective-routes", "frr"};

std::string spaced(const std::vector<std::string>& path) {
  std::string s;
  for (const auto& a : path) s += (s.empty() ? "" : " ") + a;
  return s;
}

// The portal and the CLI's learned routes write an AS path as "65010-65010-65010".
std::string dashed(const std::vector<std::string>& path) {
  std::string s;
  for (const auto& a : path) s += (s.empty() ? "" : "-") + a;
  return s;
}

std::string chosen(const TableRow& r) {
  return r.next_hop + (r.best || r.ecmp ? "*" : "");
}

// Columns padded to the widest cell and never below eight characters, as the CLI's
// `-o table` does, with a row of dashes under the header.
std::string cli_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows.front().size(), 8);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (size_t c = 0; c < r.size(); ++c)
      s += r[c] + (c + 1 < r.size() ? std::string(width[c] - r[c].size() + 2, ' ') : "");
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::vector<std::string> dashes;
  for (size_t w : width) dashes.push_back(std::string(w, '-'));
  std::string out = line(rows.front()) + line(dashes);
  for (size_t i = 1; i < rows.size(); ++i) out += line(rows[i]);
  return out;
}

std::string az_2021(const DeviceTable& t) {
  std::vector<std::vector<std::string>> rows{{"Network", "NextHop", "LocPrf", "Weight", "Path"}};
  for (const auto& r : t.rows)
    rows.push_back({r.prefix.to_string(), chosen(r), "", std::to_string(r.weight), spaced(r.path)});
  return cli_table(rows);
}

std::string az_modern(const DeviceTable& t) {
  std::vector<std::vector<std::string>> rows{{"LocPrf", "Network", "NextHop", "Path", "Weight"}};
  for (const auto& r : t.rows)
    rows.push_back({std::to_string(r.local_pref.value_or(100)), r.prefix.to_string(),
                    chosen(r).empty() ? "0.0.0.0" : chosen(r), spaced(r.path),
                    std::to_string(r.weight)});
  return cli_table(rows);
}

// One command's output per NVA peering, as seed 004 ran it: each route server instance's
// routes under its role name.
std::string learned_routes(const DeviceTable& t) {
  std::map<std::string, std::map<std::string, json>> by_peering;
  std::map<std::string, std::string> instances;  // role -> address, every instance
  for (const auto& r : t.rows) {
    json x{{"asPath", dashed(r.path)},
           {"localAddress", r.local_address},
           {"network", r.prefix.to_string()},
           {"nextHop", r.next_hop},
           {"origin", r.origin},
           {"sourcePeer", r.source_peer},
           {"weight", r.weight}};
    auto& roles = by_peering[r.source_name];
    if (!roles.count(r.instance)) roles[r.instance] = json::array();
    roles[r.instance].push_back(x);
  }
  if (by_peering.empty()) return "(no routes learned from NVAs)\n";
  std::string out;
  for (const auto& [peer, roles] : by_peering) {
    json doc = json::object();
    for (const auto& [role, routes] : roles) doc[role] = routes;
    doc["value"] = nullptr;
    out += "$ az network routeserver peering list-learned-routes -n " + peer + " --routeserver " +
           t.device + "\n" + doc.dump(2) + "\n";
  }
  return out;
}

std::string gateway_routes(const DeviceTable& t) {
  std::vector<std::vector<std::string>> rows{
      {"AsPath", "LocalAddress", "Network", "NextHop", "Origin", "SourcePeer", "Weight"}};
  for (const auto& r : t.rows)
    rows.push_back({dashed(r.path), r.local_address, r.prefix.to_string(), r.next_hop, r.origin,
                    r.source_peer, std::to_string(r.weight)});
  return cli_table(rows);
}

// The hub router's effective routes: only what it forwards on, one entry per prefix with
// every next hop of its ECMP set.
std::string vhub_routes(const DeviceTable& t) {
  json value = json::array();
  std::map<Prefix, json> by;
  std::vector<Prefix> order;
  for (const auto& r : t.rows) {
    if (!(r.best || r.ecmp)) continue;
    std::string type = r.origin == "Network" ? "Virtual Network Connection"
                       : r.origin == "EBgp"  ? "ExpressRouteGateway"
                                             : "HubBgpConnection";
    std::string hop = r.origin == "Network" ? r.source_name : r.next_hop;
    auto it = by.find(r.prefix);
    if (it == by.end()) {
      order.push_back(r.prefix);
      by[r.prefix] = json{{"addressPrefixes", {r.prefix.to_string()}},
                          {"asPath", dashed(r.path)},
                          {"nextHopType", type},
                          {"nextHops", {hop}},
                          {"routeOrigin", r.origin == "Network" ? r.source_name : t.device}};
    } else if (std::find(it->second["nextHops"].begin(), it->second["nextHops"].end(), hop) ==
               it->second["nextHops"].end()) {
      it->second["nextHops"].push_back(hop);
    }
  }
  for (const auto& p : order) value.push_back(by[p]);
  return "$ az network vhub get-effective-routes --resource-type RouteTable --name " + t.device +
         "\n" + json{{"value", value}}.dump(2) + "\n";
}

// FRR's `show ip bgp`: `*>` the best, `*=` the rest of its multipath set, the prefix on its
// first path only.
std::string frr(const DeviceTable& t) {
  char buf[512];
  std::string out = "   Network          Next Hop            Metric LocPrf Weight Path\n";
  const Prefix* last = nullptr;
  size_t paths = 0, prefixes = 0;
  for (const auto& r : t.rows) {
    std::string status = r.best ? "*>" : r.ecmp ? "*=" : "* ";
    std::string net = last && *last == r.prefix ? "" : r.prefix.to_string();
    if (!net.empty()) ++prefixes;
    last = &r.prefix;
    ++paths;
    std::string path = spaced(r.path);
    std::snprintf(buf, sizeof buf, "%s %-16s %-19s %6s %6s %6u %s%s%s\n", status.c_str(),
                  net.c_str(), r.next_hop.empty() ? "0.0.0.0" : r.next_hop.c_str(),
                  r.med ? std::to_string(*r.med).c_str() : "",
                  r.local_pref ? std::to_string(*r.local_pref).c_str() : "", r.weight, path.c_str(),
                  path.empty() ? "" : " ", r.bgp_origin.c_str());
    out += buf;
  }
  out += "\nDisplayed " + std::to_string(prefixes) + " routes and " + std::to_string(paths) +
         " total paths\n";
  return out;
}

}  // namespace

bool known_table_format(const std::string& f) {
  return kFormats.count(f) > 0;
}

std::string DeviceTable::route(const TableRow& r) {
  std::string s = chosen(r).empty() ? "local" : chosen(r);
  if (!r.path.empty()) s += " " + spaced(r.path);
  return s;
}

std::string DeviceTable::text() const {
  if (down) return "(" + device + " is down)\n";
  if (format == "az-route-table-2021") return az_2021(*this);
  if (format == "learned-routes-json") return learned_routes(*this);
  if (format == "gateway-learned-routes") return gateway_routes(*this);
  if (format == "vhub-effective-routes") return vhub_routes(*this);
  if (format == "frr") return frr(*this);
  return az_modern(*this);
}

json to_json(const DeviceTable& t) {
  json rows = json::array();
  for (const auto& r : t.rows) {
    json x{{"prefix", r.prefix.to_string()},
           {"next_hop", r.next_hop},
           {"path", r.path},
           {"local_pref", r.local_pref ? json(*r.local_pref) : json(nullptr)},
           {"med", r.med ? json(*r.med) : json(nullptr)},
           {"weight", r.weight},
           {"origin", r.bgp_origin},
           {"best", r.best},
           {"ecmp", r.ecmp},
           {"learned", r.origin},
           {"source_peer", r.source_peer},
           {"source", r.source_name},
           {"local_address", r.local_address},
           {"instance", r.instance}};
    rows.push_back(x);
  }
  return {{"device", t.device}, {"kind", t.kind}, {"title", t.title}, {"format", t.format},
          {"down", t.down},     {"rows", rows},   {"text", t.text()}};
}

std::optional<DeviceTable> table_from_json(const json& j, std::string& error) {
  try {
    DeviceTable t;
    t.device = j.at("device").get<std::string>();
    t.kind = j.at("kind").get<std::string>();
    t.title = j.at("title").get<std::string>();
    t.format = j.at("format").get<std::string>();
    t.down = j.at("down").get<bool>();
    if (!known_table_format(t.format)) {
      error = "unknown format '" + t.format + "'";
      return std::nullopt;
    }
    for (const auto& x : j.at("rows")) {
      TableRow r;
      auto p = Prefix::parse(x.at("prefix").get<std::string>());
      if (!p) {
        error = "'" + x.at("prefix").get<std::string>() + "' is not a prefix";
        return std::nullopt;
      }
      r.prefix = *p;
      r.next_hop = x.at("next_hop").get<std::string>();
      r.path = x.at("path").get<std::vector<std::string>>();
      if (!x.at("local_pref").is_null()) r.local_pref = x.at("local_pref").get<uint32_t>();
      if (!x.at("med").is_null()) r.med = x.at("med").get<uint32_t>();
      r.weight = x.at("weight").get<uint32_t>();
      r.bgp_origin = x.at("origin").get<std::string>();
      r.best = x.at("best").get<bool>();
      r.ecmp = x.at("ecmp").get<bool>();
      r.origin = x.at("learned").get<std::string>();
      r.source_peer = x.at("source_peer").get<std::string>();
      r.source_name = x.at("source").get<std::string>();
      r.local_address = x.at("local_address").get<std::string>();
      r.instance = x.at("instance").get<std::string>();
      t.rows.push_back(std::move(r));
    }
    return t;
  } catch (const json::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace anycastd::lab
