#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "config/yaml_reader.hpp"
#include "lab/table_build.hpp"
#include "lab/topology.hpp"

namespace anycastd::lab {

using config::ConfigError;
using config::ConfigFail;
using config::YamlReader;

namespace {

bool overlaps(const Prefix& a, const Prefix& b) {
  if (a.family() != b.family()) return false;
  uint8_t len = std::min(a.length(), b.length());
  return Prefix(a.address(), len) == Prefix(b.address(), len);
}

// Addresses the file leaves out come from 198.19.0.0/17, outside every seed's plan; a
// device that reuses another hub's address runs on one from 198.19.128.0/17 (shown as the
// file's address).
struct AutoAddress {
  uint32_t next;
  IpAddress take() { return IpAddress::v4(next++); }
};

class Loader {
 public:
  Loader(std::string file, std::string text) : r_(file), file_(std::move(file)) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines_.push_back(l);
  }

  Topology read(const YAML::Node& root) {
    r_.require_map(root, "");
    r_.only_keys(root, "",
                 {"name", "description", "seed", "latency", "circuits", "regions", "routers",
                  "clients", "scenarios"});
    Topology t;
    t.file = file_;
    t.name = root["name"] ? r_.string(root["name"], "name")
                          : std::filesystem::path(file_).stem().string();
    if (root["description"]) t.description = r_.string(root["description"], "description");
    if (root["seed"]) t.seed = r_.integer(root["seed"], "seed", 0, UINT64_MAX);
    if (root["latency"]) t.latency = r_.seconds(root["latency"], "latency", 0, 10);
    for_list(root, "circuits", [&](const YAML::Node& n, const std::string& p) {
      t.circuits.push_back(circuit(n, p));
    });
    for_list(root, "regions", [&](const YAML::Node& n, const std::string& p) {
      t.regions.push_back(region(n, p, t));
    });
    for_list(root, "routers", [&](const YAML::Node& n, const std::string& p) {
      t.routers.push_back(router(n, p, t));
    });
    for_list(root, "clients", [&](const YAML::Node& n, const std::string& p) {
      t.clients.push_back(client(n, p, t));
    });
    check_peering_overlaps(t);
    check_vwan_overlaps(root, t);
    t.shown = shown_;
    for_list(root, "scenarios", [&](const YAML::Node& n, const std::string& p) {
      t.scenarios.push_back(scenario(n, p, t));
    });
    return t;
  }

 private:
  template <typename F>
  void for_list(const YAML::Node& parent, const std::string& key, F f,
                const std::string& prefix = "") {
    auto n = parent[key];
    if (!n) return;
    std::string path = prefix.empty() ? key : prefix + "." + key;
    if (!n.IsSequence()) r_.fail(n, path, "expected a list");
    for (size_t i = 0; i < n.size(); ++i) f(n[i], path + "[" + std::to_string(i) + "]");
  }

  std::string name(const YAML::Node& n, const std::string& p) {
    if (!n["name"]) r_.fail(n, p, "missing required key 'name'");
    auto s = r_.string(n["name"], p + ".name");
    if (!names_.insert(s).second) r_.fail(n["name"], p + ".name", "name '" + s + "' is used twice");
    return s;
  }

  // Addresses are per hub, as the cloud has them: a hub VNet is its own address space (two
  // hubs on one circuit may share a plan), Virtual WAN hubs share one, and the MSEEs and
  // on-prem routers are seen by every hub. Two devices on one address in one space would
  // share sessions and answers without a word (issue 18), so the second is refused, naming
  // the first; backends may share a host, on different ports. A device that reuses another
  // hub's address runs on an alias, and the lab shows the file's address.
  IpAddress claim(const YAML::Node& n, const std::string& p, bool backend = false) {
    auto a = r_.address(n, p);
    auto& claims = claimed_[a];
    for (const auto& c : claims) {
      bool apart = !scope_.empty() && !c.scope.empty() && c.scope != scope_;
      if (apart || (backend && c.backend && c.scope == scope_)) continue;
      std::string why = c.scope == scope_
                            ? (scope_.empty() ? "on-prem routers and MSEEs need an address each"
                                              : "two devices in one hub need an address each")
                            : "on-prem routers and MSEEs share their address space with every "
                              "hub";
      r_.fail(n, p,
              a.to_string() + " is already the address of " + c.path + " (line " +
                  std::to_string(c.line) + "): " + why);
    }
    bool reused = false;
    for (const auto& c : claims) reused |= c.scope != scope_;
    claims.push_back({p, n.Mark().line + 1, backend, scope_});
    if (!reused) return a;
    auto& alias = aliases_[scope_][a];
    if (alias.is_unspecified()) {
      alias = aliased_.take();
      shown_[alias] = a;
    }
    return alias;
  }

  IpAddress address_or_auto(const YAML::Node& n, const std::string& p) {
    return n ? claim(n, p) : auto_.take();
  }

  std::vector<IpAddress> addresses(const YAML::Node& n, const std::string& p, size_t count) {
    std::vector<IpAddress> out;
    if (!n) {
      for (size_t i = 0; i < count; ++i) out.push_back(auto_.take());
      return out;
    }
    if (!n.IsSequence() || n.size() == 0) r_.fail(n, p, "expected a non-empty list of addresses");
    for (size_t i = 0; i < n.size(); ++i)
      out.push_back(claim(n[i], p + "[" + std::to_string(i) + "]"));
    return out;
  }

  std::vector<uint32_t> asns(const YAML::Node& n, const std::string& p) {
    std::vector<uint32_t> out;
    if (!n.IsSequence()) r_.fail(n, p, "expected a list of AS numbers");
    for (size_t i = 0; i < n.size(); ++i)
      out.push_back(r_.asn(n[i], p + "[" + std::to_string(i) + "]"));
    return out;
  }

  MseeSpec circuit(const YAML::Node& n, const std::string& p) {
    r_.require_map(n, p);
    r_.only_keys(n, p, {"name", "msee"});
    MseeSpec m;
    m.name = name(n, p);
    YAML::Node e = n["msee"] ? n["msee"] : YAML::Node(YAML::NodeType::Map);
    std::string ep = p + ".msee";
    r_.require_map(e, ep);
    r_.only_keys(e, ep,
                 {"address", "asn", "tie-break", "ecmp", "remove-private-as", "table-format"});
    if (auto f = e["table-format"]) {
      m.table_format = r_.string(f, ep + ".table-format");
      if (m.table_format != "az-route-table" && m.table_format != "az-route-table-2021")
        r_.fail(f, ep + ".table-format", "expected az-route-table or az-route-table-2021");
    }
    m.address = address_or_auto(e["address"], ep + ".address");
    if (e["asn"]) m.asn = r_.asn(e["asn"], ep + ".asn");
    if (auto tb = e["tie-break"]) {
      if (!tb.IsSequence()) r_.fail(tb, ep + ".tie-break", "expected a list");
      m.tie_breaks.clear();
      for (size_t i = 0; i < tb.size(); ++i) {
        std::string tp = ep + ".tie-break[" + std::to_string(i) + "]";
        auto t = rib::parse_tie_break(r_.string(tb[i], tp));
        if (!t) r_.fail(tb[i], tp, "expected one of oldest, router-id, lowest-next-hop");
        m.tie_breaks.push_back(*t);
      }
    }
    if (e["ecmp"]) m.ecmp = r_.integer(e["ecmp"], ep + ".ecmp", 1, 64);
    if (e["remove-private-as"])
      m.remove_private_as = r_.boolean(e["remove-private-as"], ep + ".remove-private-as");
    return m;
  }

  void known_circuits(const YAML::Node& n, const std::string& p, const Topology& t,
                      std::vector<std::string>& out) {
    if (!n.IsSequence()) r_.fail(n, p, "expected a list of circuit names");
    for (size_t i = 0; i < n.size(); ++i) {
      std::string cp = p + "[" + std::to_string(i) + "]";
      auto c = r_.string(n[i], cp);
      bool found = false;
      for (const auto& m : t.circuits) found |= m.name == c;
      if (!found) r_.fail(n[i], cp, "no circuit named '" + c + "'");
      out.push_back(c);
    }
  }

  RegionSpec region(const YAML::Node& n, const std::string& p, const Topology& t) {
    r_.require_map(n, p);
    r_.only_keys(n, p, {"name", "latency", "hub", "nvas", "backends"});
    RegionSpec g;
    g.name = name(n, p);
    g.latency = n["latency"] ? r_.seconds(n["latency"], p + ".latency", 0, 10) : t.latency;
    if (!n["hub"]) r_.fail(n, p, "missing required key 'hub'");
    struct Scope {  // the hub's address space, for what the region's devices claim
      std::string& s;
      ~Scope() { s.clear(); }
    } scope{scope_};
    g.hub = hub(n["hub"], p + ".hub", t, g.name);
    for_list(
        n, "nvas",
        [&](const YAML::Node& x, const std::string& xp) { g.nvas.push_back(nva(x, xp, g)); }, p);
    if (!g.nvas.empty() && g.hub.route_servers.empty())
      r_.fail(n["nvas"], p + ".nvas", "NVAs need the hub's route server (route-server: none)");
    if (g.nvas.size() > g.hub.rs_max_peers)
      r_.fail(n["nvas"], p + ".nvas",
              "route server supports at most " + std::to_string(g.hub.rs_max_peers) +
                  " BGP peers; " + std::to_string(g.nvas.size()) + " NVAs are configured");
    for_list(
        n, "backends",
        [&](const YAML::Node& x, const std::string& xp) {
          r_.require_map(x, xp);
          r_.only_keys(x, xp, {"name", "address", "port", "answer"});
          BackendSpec b;
          b.name = name(x, xp);
          if (!x["address"]) r_.fail(x, xp, "missing required key 'address'");
          b.at.address = claim(x["address"], xp + ".address", true);
          b.at.port = x["port"] ? r_.integer(x["port"], xp + ".port", 1, 65535) : 80;
          b.answer = x["answer"] ? r_.string(x["answer"], xp + ".answer") : g.name;
          g.backends.push_back(b);
        },
        p);
    // The hub's own devices, as its NVAs and spokes name them.
    if (auto it = aliases_.find(scope_); it != aliases_.end()) {
      for (auto& v : g.nvas) rescope(v.config, it->second);
      for (auto& sp : g.hub.spokes)
        if (sp.via)
          if (auto a = it->second.find(*sp.via); a != it->second.end()) sp.via = a->second;
    }
    return g;
  }

  // An NVA's configuration names its hub's devices (route servers, backends) by the file's
  // addresses; where those run on aliases, it gets the aliases.
  static void rescope(config::Config& c, const std::map<IpAddress, IpAddress>& alias) {
    auto map = [&](IpAddress& a) {
      if (auto it = alias.find(a); it != alias.end()) a = it->second;
    };
    for (auto& peer : c.bgp.peers) {
      map(peer.address);
      if (peer.local_address) map(*peer.local_address);
      if (peer.next_hop_v4) map(*peer.next_hop_v4);
    }
    for (auto& v : c.bgp.vips)
      if (v.next_hop) map(*v.next_hop);
    for (auto& [_, pol] : c.bgp.policies)
      for (auto& term : pol.terms) {
        for (auto& a : term.match.peers) map(a);
        if (term.actions.next_hop) map(*term.actions.next_hop);
      }
    for (auto& ch : c.health.checks) {
      map(ch.target.address);
      if (ch.source) map(*ch.source);
    }
    for (auto& svc : c.proxy.services)
      for (auto& b : svc.backends) map(b.endpoint.address);
  }

  HubSpec hub(const YAML::Node& n, const std::string& p, const Topology& t,
              const std::string& region) {
    r_.require_map(n, p);
    r_.only_keys(n, p, {"name", "type", "prefixes", "route-server", "er-gateway", "spokes"});
    HubSpec h;
    h.name = n["name"] ? r_.string(n["name"], p + ".name") : "hub-" + region;
    if (n["name"] && !names_.insert(h.name).second)
      r_.fail(n["name"], p + ".name", "name '" + h.name + "' is used twice");
    if (auto x = n["type"]) {
      auto s = r_.string(x, p + ".type");
      if (s != "vnet" && s != "vwan") r_.fail(x, p + ".type", "expected vnet or vwan");
      h.vwan = s == "vwan";
    }
    // A hub VNet is an address space of its own; Virtual WAN's hubs share one.
    scope_ = h.vwan ? std::string("virtual WAN") : "hub " + h.name;
    if (auto x = n["prefixes"]) {
      if (!x.IsSequence()) r_.fail(x, p + ".prefixes", "expected a list of prefixes");
      for (size_t i = 0; i < x.size(); ++i)
        h.prefixes.push_back(r_.prefix(x[i], p + ".prefixes[" + std::to_string(i) + "]"));
    }
    YAML::Node rs = n["route-server"] ? n["route-server"] : YAML::Node(YAML::NodeType::Map);
    std::string rp = p + ".route-server";
    // A hub without Azure Route Server (seed 001's no-BGP design).
    bool no_rs = rs.IsScalar() && rs.Scalar() == "none";
    if (no_rs) rs = YAML::Node(YAML::NodeType::Map);
    r_.require_map(rs, rp);
    r_.only_keys(rs, rp, {"instances", "hold-time", "branch-to-branch", "max-routes", "max-peers"});
    h.route_servers = addresses(rs["instances"], rp + ".instances", no_rs ? 0 : 2);
    if (rs["hold-time"])
      h.rs_hold_time =
          static_cast<uint16_t>(r_.integer(rs["hold-time"], rp + ".hold-time", 3, 65535));
    if (rs["branch-to-branch"])
      h.branch_to_branch = r_.boolean(rs["branch-to-branch"], rp + ".branch-to-branch");
    if (rs["max-routes"])
      h.rs_max_routes =
          static_cast<uint32_t>(r_.integer(rs["max-routes"], rp + ".max-routes", 1, 1000000));
    if (rs["max-peers"]) h.rs_max_peers = r_.integer(rs["max-peers"], rp + ".max-peers", 1, 1000);
    YAML::Node gw = n["er-gateway"] ? n["er-gateway"] : YAML::Node(YAML::NodeType::Map);
    std::string gp = p + ".er-gateway";
    r_.require_map(gw, gp);
    r_.only_keys(gw, gp, {"instances", "circuits"});
    h.gateways = addresses(gw["instances"], gp + ".instances", 2);
    if (gw["circuits"]) {
      known_circuits(gw["circuits"], gp + ".circuits", t, h.circuits);
    } else {
      for (const auto& c : t.circuits) h.circuits.push_back(c.name);
    }
    for_list(
        n, "spokes",
        [&](const YAML::Node& x, const std::string& xp) {
          r_.require_map(x, xp);
          r_.only_keys(x, xp, {"name", "prefix", "indirect", "via", "route-map", "answer"});
          SpokeSpec s;
          s.name = name(x, xp);
          if (!x["prefix"]) r_.fail(x, xp, "missing required key 'prefix'");
          s.prefix = r_.prefix(x["prefix"], xp + ".prefix");
          if (x["indirect"]) s.indirect = r_.boolean(x["indirect"], xp + ".indirect");
          if (x["via"]) s.via = r_.address(x["via"], xp + ".via");
          if (s.indirect && !s.via)
            r_.fail(x, xp,
                    "an indirect spoke needs 'via': the forwarding device its static route "
                    "points to");
          if (auto m = x["route-map"]) {
            r_.require_map(m, xp + ".route-map");
            r_.only_keys(m, xp + ".route-map", {"prepend"});
            if (m["prepend"]) s.route_map_prepend = asns(m["prepend"], xp + ".route-map.prepend");
          }
          if (!s.route_map_prepend.empty() && !h.vwan)
            r_.fail(x["route-map"], xp + ".route-map",
                    "route maps exist only in Virtual WAN hubs (type: vwan)");
          s.answer = x["answer"] ? r_.string(x["answer"], xp + ".answer") : region;
          h.spokes.push_back(s);
          spoke_nodes_[h.name + "/" + s.name] = {x, xp};
        },
        p);
    return h;
  }

  // VNet peering refuses two VNets whose address spaces overlap: a hub VNet and a spoke
  // peered with it directly. (Spokes of different hubs, or behind a forwarding device, may
  // overlap: seed 001 builds on that.)
  void check_peering_overlaps(const Topology& t) {
    for (const auto& g : t.regions) {
      if (g.hub.vwan) continue;
      for (const auto& s : g.hub.spokes) {
        if (s.indirect) continue;
        for (const auto& hp : g.hub.prefixes)
          if (overlaps(hp, s.prefix)) {
            const auto& [node, path] = spoke_nodes_[g.hub.name + "/" + s.name];
            r_.fail(node["prefix"] ? node["prefix"] : node, path + ".prefix",
                    "virtual networks '" + g.hub.name + "' and '" + s.name +
                        "' cannot be peered because their address spaces overlap: " +
                        hp.to_string() + " and " + s.prefix.to_string());
          }
      }
    }
  }

  // Virtual WAN refuses a directly connected spoke whose range overlaps another's anywhere
  // in the same Virtual WAN; the seed shows the portal's words.
  void check_vwan_overlaps(const YAML::Node&, const Topology& t) {
    std::vector<std::pair<const HubSpec*, const SpokeSpec*>> seen;
    for (const auto& g : t.regions) {
      if (!g.hub.vwan) continue;
      for (const auto& s : g.hub.spokes) {
        if (s.indirect) continue;
        for (const auto& [h, o] : seen)
          if (overlaps(o->prefix, s.prefix))
            r_.fail(
                spoke_nodes_[g.hub.name + "/" + s.name].first,
                spoke_nodes_[g.hub.name + "/" + s.name].second,
                "Virtual network connection '" + s.name + "' from hub '" + g.hub.name +
                    "' to virtual network '" + s.name +
                    "' is not allowed. It overlaps with address space: " + o->prefix.to_string());
        seen.push_back({&g.hub, &s});
      }
    }
  }

  // An NVA's own anycastd configuration: a file next to the topology, or inline. Inline
  // text is cut from the topology file so that errors keep its lines and columns.
  NvaSpec nva(const YAML::Node& n, const std::string& p, const RegionSpec& g) {
    r_.require_map(n, p);
    r_.only_keys(n, p, {"name", "address", "config"});
    NvaSpec v;
    v.name = name(n, p);
    if (!n["address"]) r_.fail(n, p, "missing required key 'address'");
    v.address = claim(n["address"], p + ".address");
    auto c = n["config"];
    if (!c) r_.fail(n, p, "missing required key 'config' (the NVA's anycastd configuration)");
    v.config = nva_config(c, p);
    uint32_t as = v.config.bgp.local_as;
    if (as > 65535)
      r_.fail(
          c, p + ".config.local-as",
          "route server peers must use 16-bit ASNs; " + v.name + " has AS " + std::to_string(as));
    if (as == 65515 || (as >= 65517 && as <= 65520))
      r_.fail(c, p + ".config.local-as",
              "AS " + std::to_string(as) + " is reserved by Azure; " + g.name +
                  "'s route server refuses it");
    return v;
  }

  // An NVA's anycastd configuration at `c` (p.config): a file next to the topology, or inline.
  config::Config nva_config(const YAML::Node& c, const std::string& p) {
    auto cfg = [&]() -> Result<config::Config, ConfigError> {
      if (c.IsScalar()) {
        auto path = std::filesystem::path(file_).parent_path() / c.Scalar();
        auto r = config::load_file(path.string());
        // A file that is not there is the topology's mistake: say where it names it.
        if (!r && r.error().line == 0)
          r_.fail(c, p + ".config",
                  "NVA configuration " + path.string() + ": " + r.error().message);
        return r;
      }
      // A flow mapping ({...}) may share its lines with the topology: re-emit it, and
      // point errors at where it starts.
      if (c.Style() == YAML::EmitterStyle::Flow) {
        auto r = config::load_string(YAML::Dump(c), file_);
        if (r) return r;
        auto e = r.error();
        e.line = c.Mark().line + 1;
        e.column = c.Mark().column + 1;
        return Err(e);
      }
      auto [text, line0, col0] = cut(c);
      auto r = config::load_string(text, file_);
      if (r || r.error().line == 0) return r;
      auto e = r.error();
      e.line += line0;
      e.column += col0;
      return Err(e);
    }();
    if (!cfg) {
      auto e = cfg.error();
      e.field = e.field.empty() ? p + ".config" : p + ".config." + e.field;
      throw ConfigFail{e};
    }
    return std::move(*cfg);
  }

  // The lines of a block mapping, dedented, and where they start (0-based line, column).
  std::tuple<std::string, int, int> cut(const YAML::Node& n) {
    int line0 = n.Mark().line, col0 = n.Mark().column;
    std::string out;
    for (size_t i = static_cast<size_t>(line0); i < lines_.size(); ++i) {
      const auto& l = lines_[i];
      auto first = l.find_first_not_of(' ');
      bool blank = first == std::string::npos || l[first] == '#';
      if (i > static_cast<size_t>(line0) && !blank && static_cast<int>(first) < col0) break;
      out += (static_cast<int>(l.size()) > col0 ? l.substr(static_cast<size_t>(col0)) : "") + "\n";
    }
    return {out, line0, col0};
  }

  RouterSpec router(const YAML::Node& n, const std::string& p, const Topology& t) {
    r_.require_map(n, p);
    r_.only_keys(n, p, {"name", "asn", "address", "circuits", "ecmp", "prefixes"});
    RouterSpec o;
    o.name = name(n, p);
    if (!n["asn"]) r_.fail(n, p, "missing required key 'asn'");
    o.asn = r_.asn(n["asn"], p + ".asn");
    o.address = address_or_auto(n["address"], p + ".address");
    if (n["circuits"]) {
      known_circuits(n["circuits"], p + ".circuits", t, o.circuits);
    } else {
      for (const auto& c : t.circuits) o.circuits.push_back(c.name);
    }
    if (n["ecmp"]) o.ecmp = r_.integer(n["ecmp"], p + ".ecmp", 1, 64);
    if (auto x = n["prefixes"]) {
      if (!x.IsSequence()) r_.fail(x, p + ".prefixes", "expected a list of prefixes");
      for (size_t i = 0; i < x.size(); ++i)
        o.prefixes.push_back(r_.prefix(x[i], p + ".prefixes[" + std::to_string(i) + "]"));
    }
    return o;
  }

  ClientSpec client(const YAML::Node& n, const std::string& p, const Topology& t) {
    r_.require_map(n, p);
    r_.only_keys(n, p, {"name", "router", "target", "port", "rate"});
    ClientSpec c;
    c.name = name(n, p);
    if (!n["router"]) r_.fail(n, p, "missing required key 'router'");
    c.router = r_.string(n["router"], p + ".router");
    bool found = false;
    for (const auto& o : t.routers) found |= o.name == c.router;
    if (!found) r_.fail(n["router"], p + ".router", "no router named '" + c.router + "'");
    if (!n["target"]) r_.fail(n, p, "missing required key 'target'");
    c.target.address = r_.address(n["target"], p + ".target");
    c.target.port = n["port"] ? r_.integer(n["port"], p + ".port", 1, 65535) : 80;
    if (auto x = n["rate"]) {
      double v = 0;
      if (!x.IsScalar() || !YAML::convert<double>::decode(x, v) || v < 0.1 || v > 10000)
        r_.fail(x, p + ".rate", "expected requests per second between 0.1 and 10000");
      c.rate = v;
    }
    return c;
  }

  std::string node_ref(const YAML::Node& n, const std::string& p,
                       const std::set<std::string>& allowed, const char* what) {
    auto s = r_.string(n, p);
    if (!allowed.count(s)) r_.fail(n, p, std::string("no ") + what + " named '" + s + "'");
    return s;
  }

  // A device whose table `show` or `expect: table` names; the error lists those there are.
  std::string device_ref(const YAML::Node& n, const std::string& p, const Topology& t) {
    auto s = r_.string(n, p);
    auto names = table_devices(t);
    if (std::find(names.begin(), names.end(), s) == names.end()) {
      std::string list;
      for (const auto& x : names) list += (list.empty() ? "" : ", ") + x;
      r_.fail(n, p, "no device with a table named '" + s + "' (there are: " + list + ")");
    }
    return s;
  }

  Action action(const YAML::Node& n, const std::string& p, const Topology& t) {
    r_.require_map(n, p);
    if (n.size() != 1) r_.fail(n, p, "expected one action, as 'stop-bgp: nva-name'");
    auto key = n.begin()->first.as<std::string>();
    auto v = n.begin()->second;
    std::string vp = p + "." + key;
    std::set<std::string> nvas, backends, spokes, hosts;
    for (const auto& g : t.regions) {
      for (const auto& x : g.nvas) nvas.insert(x.name), hosts.insert(x.name);
      for (const auto& x : g.backends) backends.insert(x.name), hosts.insert(x.name);
      for (const auto& x : g.hub.spokes) spokes.insert(x.name);
    }
    using K = Action::Kind;
    static const std::map<std::string, K> kinds{{"stop-bgp", K::stop_bgp},
                                                {"start-bgp", K::start_bgp},
                                                {"crash", K::crash},
                                                {"restore", K::restore},
                                                {"fail-backend", K::fail_backend},
                                                {"restore-backend", K::restore_backend},
                                                {"remove-peering", K::remove_peering},
                                                {"restore-peering", K::restore_peering},
                                                {"prepend", K::prepend},
                                                {"route-map", K::route_map},
                                                {"export-policy", K::export_policy},
                                                {"drain", K::drain},
                                                {"undrain", K::undrain},
                                                {"partition", K::partition},
                                                {"heal", K::heal},
                                                {"link-delay", K::link_delay},
                                                {"freeze", K::freeze},
                                                {"thaw", K::thaw},
                                                {"backend", K::backend},
                                                {"reload", K::reload}};
    auto it = kinds.find(key);
    if (it == kinds.end()) {
      std::string list;
      for (const auto& [k, _] : kinds) list += (list.empty() ? "" : ", ") + k;
      r_.fail(n.begin()->first, vp, "unknown action '" + key + "' (expected one of: " + list + ")");
    }
    Action a{it->second, "", "", 0, {}, {}, {}, {}, {}, {}, {}};
    switch (a.kind) {
      case K::stop_bgp:
      case K::start_bgp:
      case K::drain:
      case K::undrain:
      case K::heal:
      case K::thaw:
        a.target = node_ref(v, vp, nvas, "NVA");
        break;
      case K::partition:
      case K::freeze:
        if (!v.IsMap()) {
          a.target = node_ref(v, vp, nvas, "NVA");
          break;
        }
        r_.only_keys(v, vp, {"nva", "for"});
        if (!v["nva"]) r_.fail(v, vp, "expected an NVA name, or {nva: NAME, for: SECONDS}");
        a.target = node_ref(v["nva"], vp + ".nva", nvas, "NVA");
        if (v["for"]) a.duration = r_.seconds(v["for"], vp + ".for", 0.001, 3600);
        break;
      case K::link_delay:
        r_.require_map(v, vp);
        r_.only_keys(v, vp, {"nva", "seconds"});
        if (!v["nva"] || !v["seconds"]) r_.fail(v, vp, "expected {nva: NAME, seconds: S}");
        a.target = node_ref(v["nva"], vp + ".nva", nvas, "NVA");
        a.duration = r_.seconds(v["seconds"], vp + ".seconds", 0, 60);
        break;
      case K::crash:
      case K::restore:
        a.target = node_ref(v, vp, hosts, "NVA or backend");
        break;
      case K::fail_backend:
      case K::restore_backend:
        a.target = node_ref(v, vp, backends, "backend");
        break;
      case K::remove_peering:
      case K::restore_peering:
        a.target = node_ref(v, vp, spokes, "spoke");
        break;
      case K::prepend:
        r_.require_map(v, vp);
        r_.only_keys(v, vp, {"nva", "count"});
        if (!v["nva"] || !v["count"]) r_.fail(v, vp, "expected {nva: NAME, count: N}");
        a.target = node_ref(v["nva"], vp + ".nva", nvas, "NVA");
        a.count = static_cast<uint32_t>(r_.integer(v["count"], vp + ".count", 0, 32));
        break;
      case K::export_policy: {
        r_.require_map(v, vp);
        r_.only_keys(v, vp, {"nva", "policy"});
        if (!v["nva"] || !v["policy"]) r_.fail(v, vp, "expected {nva: NAME, policy: NAME}");
        a.target = node_ref(v["nva"], vp + ".nva", nvas, "NVA");
        a.policy = r_.string(v["policy"], vp + ".policy");
        bool known = false;
        for (const auto& g : t.regions)
          for (const auto& x : g.nvas)
            if (x.name == a.target) known = x.config.bgp.policies.count(a.policy) > 0;
        if (!known)
          r_.fail(v["policy"], vp + ".policy",
                  "NVA " + a.target + " has no policy named '" + a.policy + "'");
        break;
      }
      case K::reload: {
        r_.require_map(v, vp);
        r_.only_keys(v, vp, {"nva", "config"});
        if (!v["nva"] || !v["config"])
          r_.fail(v, vp, "expected {nva: NAME, config: the NVA's new configuration or its file}");
        a.target = node_ref(v["nva"], vp + ".nva", nvas, "NVA");
        a.config = std::make_shared<const config::Config>(nva_config(v["config"], vp));
        break;
      }
      case K::backend: {
        r_.require_map(v, vp);
        r_.only_keys(v, vp, {"nva", "service", "backend", "state", "weight"});
        for (const char* k : {"nva", "service", "backend"})
          if (!v[k])
            r_.fail(v, vp,
                    "expected {nva: NAME, service: NAME, backend: NAME or ADDRESS[:PORT], "
                    "state: ready|drain|maint} or weight: N instead of state");
        a.target = node_ref(v["nva"], vp + ".nva", nvas, "NVA");
        a.service = r_.string(v["service"], vp + ".service");
        a.backend = r_.string(v["backend"], vp + ".backend");
        if (!v["state"] == !v["weight"]) r_.fail(v, vp, "give one of 'state' and 'weight'");
        if (v["state"]) {
          a.state = r_.string(v["state"], vp + ".state");
          if (a.state != "ready" && a.state != "drain" && a.state != "maint")
            r_.fail(v["state"], vp + ".state", "expected ready, drain or maint");
        } else {
          a.weight = static_cast<uint32_t>(r_.integer(v["weight"], vp + ".weight", 0, 256));
        }
        break;
      }
      case K::route_map:
        r_.require_map(v, vp);
        r_.only_keys(v, vp, {"spoke", "prepend"});
        if (!v["spoke"] || !v["prepend"]) r_.fail(v, vp, "expected {spoke: NAME, prepend: [ASN]}");
        a.target = node_ref(v["spoke"], vp + ".spoke", spokes, "spoke");
        a.asns = asns(v["prepend"], vp + ".prepend");
        break;
    }
    return a;
  }

  Expect expect(const YAML::Node& n, const std::string& p, const Topology& t) {
    r_.require_map(n, p);
    r_.only_keys(
        n, p,
        {"msee", "served-by", "regions-served", "answers", "lost-max", "route-server", "table"});
    Expect e;
    std::set<std::string> regions{"none"}, clients, hubs;
    for (const auto& g : t.regions) regions.insert(g.name), hubs.insert(g.hub.name);
    for (const auto& c : t.clients) clients.insert(c.name);
    if (auto m = n["msee"]) {
      r_.require_map(m, p + ".msee");
      for (const auto& kv : m) {
        auto circuit = kv.first.as<std::string>();
        std::string cp = p + ".msee." + circuit;
        bool found = false;
        for (const auto& c : t.circuits) found |= c.name == circuit;
        if (!found) r_.fail(kv.first, cp, "no circuit named '" + circuit + "'");
        r_.require_map(kv.second, cp);
        for (const auto& pk : kv.second) {
          MseeExpect x;
          x.circuit = circuit;
          std::string pp = cp + "." + pk.first.as<std::string>();
          x.prefix = r_.prefix(pk.first, pp);
          r_.require_map(pk.second, pp);
          r_.only_keys(pk.second, pp, {"routes", "chosen-region"});
          if (auto rs = pk.second["routes"]) {
            if (!rs.IsSequence()) r_.fail(rs, pp + ".routes", "expected a list of 'NEXTHOP PATH'");
            x.routes.emplace();
            for (size_t i = 0; i < rs.size(); ++i)
              x.routes->push_back(r_.string(rs[i], pp + ".routes[" + std::to_string(i) + "]"));
          }
          if (auto c = pk.second["chosen-region"])
            x.chosen_region = node_ref(c, pp + ".chosen-region", regions, "region");
          e.msee.push_back(x);
        }
      }
    }
    if (auto s = n["served-by"]) {
      r_.require_map(s, p + ".served-by");
      for (const auto& kv : s) {
        auto c = node_ref(kv.first, p + ".served-by", clients, "client");
        e.served_by[c] = node_ref(kv.second, p + ".served-by." + c, regions, "region");
      }
    }
    if (auto s = n["regions-served"]) {
      r_.require_map(s, p + ".regions-served");
      for (const auto& kv : s) {
        auto c = node_ref(kv.first, p + ".regions-served", clients, "client");
        std::string cp = p + ".regions-served." + c;
        if (!kv.second.IsSequence()) r_.fail(kv.second, cp, "expected a list of regions");
        for (size_t i = 0; i < kv.second.size(); ++i)
          e.regions_served[c].push_back(
              node_ref(kv.second[i], cp + "[" + std::to_string(i) + "]", regions, "region"));
      }
    }
    if (auto s = n["answers"]) {
      r_.require_map(s, p + ".answers");
      for (const auto& kv : s) {
        auto c = node_ref(kv.first, p + ".answers", clients, "client");
        std::string cp = p + ".answers." + c;
        if (!kv.second.IsSequence()) r_.fail(kv.second, cp, "expected a list of answers");
        for (size_t i = 0; i < kv.second.size(); ++i)
          e.answers[c].push_back(r_.string(kv.second[i], cp + "[" + std::to_string(i) + "]"));
      }
    }
    if (auto s = n["lost-max"]) {
      r_.require_map(s, p + ".lost-max");
      for (const auto& kv : s) {
        auto c = node_ref(kv.first, p + ".lost-max", clients, "client");
        e.lost_max[c] = r_.integer(kv.second, p + ".lost-max." + c, 0, UINT32_MAX);
      }
    }
    if (auto s = n["route-server"]) {
      r_.require_map(s, p + ".route-server");
      for (const auto& kv : s) {
        auto h = node_ref(kv.first, p + ".route-server", hubs, "hub");
        std::string hp = p + ".route-server." + h;
        r_.require_map(kv.second, hp);
        for (const auto& pk : kv.second) {
          auto v = r_.string(pk.second, hp + "." + pk.first.as<std::string>());
          if (v != "present" && v != "absent") r_.fail(pk.second, hp, "expected present or absent");
          e.route_server[h][r_.prefix(pk.first, hp)] = v == "present";
        }
      }
    }
    if (auto s = n["table"]) {
      r_.require_map(s, p + ".table");
      for (const auto& kv : s) {
        auto d = device_ref(kv.first, p + ".table", t);
        std::string dp = p + ".table." + d;
        r_.require_map(kv.second, dp);
        for (const auto& pk : kv.second) {
          std::string pp = dp + "." + pk.first.as<std::string>();
          auto& routes = e.table[d][r_.prefix(pk.first, pp)];
          if (pk.second.IsScalar() && pk.second.as<std::string>() == "none") continue;
          if (!pk.second.IsSequence())
            r_.fail(pk.second, pp, "expected a list of 'NEXTHOP PATH' or none");
          for (size_t i = 0; i < pk.second.size(); ++i)
            routes.push_back(r_.string(pk.second[i], pp + "[" + std::to_string(i) + "]"));
        }
      }
    }
    return e;
  }

  Scenario scenario(const YAML::Node& n, const std::string& p, const Topology& t) {
    r_.require_map(n, p);
    r_.only_keys(n, p, {"name", "description", "steps", "end"});
    Scenario s;
    if (!n["name"]) r_.fail(n, p, "missing required key 'name'");
    s.name = r_.string(n["name"], p + ".name");
    if (t.scenario(s.name)) r_.fail(n["name"], p + ".name", "scenario '" + s.name + "' twice");
    if (n["description"]) s.description = r_.string(n["description"], p + ".description");
    Duration last{};
    for_list(
        n, "steps",
        [&](const YAML::Node& x, const std::string& xp) {
          r_.require_map(x, xp);
          r_.only_keys(x, xp, {"at", "do", "expect", "show", "note"});
          Step st;
          if (!x["at"]) r_.fail(x, xp, "missing required key 'at' (seconds from the start)");
          st.at = r_.seconds(x["at"], xp + ".at", 0, 86400);
          if (st.at < last)
            r_.fail(x["at"], xp + ".at", "steps must be in time order; this one is earlier");
          last = st.at;
          if (auto d = x["do"]) {
            if (d.IsSequence()) {
              for (size_t i = 0; i < d.size(); ++i)
                st.actions.push_back(action(d[i], xp + ".do[" + std::to_string(i) + "]", t));
            } else {
              st.actions.push_back(action(d, xp + ".do", t));
            }
          }
          if (x["expect"]) st.expect = expect(x["expect"], xp + ".expect", t);
          if (auto sh = x["show"]; sh && sh.IsSequence()) {
            for (size_t i = 0; i < sh.size(); ++i)
              st.show_devices.push_back(
                  device_ref(sh[i], xp + ".show[" + std::to_string(i) + "]", t));
          } else if (sh) {
            st.show = r_.boolean(sh, xp + ".show");
          }
          if (x["note"]) st.note = r_.string(x["note"], xp + ".note");
          s.steps.push_back(std::move(st));
        },
        p);
    s.end = n["end"] ? r_.seconds(n["end"], p + ".end", 0, 86400) : last + std::chrono::seconds(1);
    if (s.end < last) r_.fail(n["end"], p + ".end", "ends before its last step");
    return s;
  }

  YamlReader r_;
  std::string file_;
  std::vector<std::string> lines_;
  std::set<std::string> names_;
  struct Claim {
    std::string path;
    int line;
    bool backend;
    std::string scope;  // "" for the MSEEs and on-prem routers, seen by every hub
  };
  std::map<IpAddress, std::vector<Claim>> claimed_;
  std::string scope_;  // the address space of the devices being read
  std::map<std::string, std::map<IpAddress, IpAddress>> aliases_;  // scope: file -> alias
  std::map<IpAddress, IpAddress> shown_;                           // alias -> file
  std::map<std::string, std::pair<YAML::Node, std::string>> spoke_nodes_;
  AutoAddress auto_{(198u << 24) | (19u << 16) | 1};
  AutoAddress aliased_{(198u << 24) | (19u << 16) | (128u << 8) | 1};
};

}  // namespace

const Scenario* Topology::scenario(const std::string& n) const {
  for (const auto& s : scenarios)
    if (s.name == n) return &s;
  return nullptr;
}

std::string Action::describe() const {
  switch (kind) {
    case Kind::stop_bgp:
      return "stop BGP on " + target;
    case Kind::start_bgp:
      return "start BGP on " + target;
    case Kind::crash:
      return "crash " + target + " (power off, no BGP notification)";
    case Kind::restore:
      return "restore " + target;
    case Kind::fail_backend:
      return "fail the application on " + target;
    case Kind::restore_backend:
      return "restore the application on " + target;
    case Kind::remove_peering:
      return "remove the VNet peering of " + target;
    case Kind::restore_peering:
      return "restore the VNet peering of " + target;
    case Kind::prepend:
      return "set the VIP prepend of " + target + " to " + std::to_string(count);
    case Kind::export_policy:
      return "export policy " + policy + " on " + target + "'s route server sessions";
    case Kind::drain:
      return "drain the VIPs of " + target;
    case Kind::undrain:
      return "undrain the VIPs of " + target;
    case Kind::partition:
      return "partition " + target + " from its route servers" +
             (duration > Duration::zero() ? " for " + config::secs(duration) + " s" : "") +
             " (packets lost, nobody told)";
    case Kind::heal:
      return "heal the links of " + target + " to its route servers";
    case Kind::freeze:
      return "freeze " + target +
             (duration > Duration::zero() ? " for " + config::secs(duration) + " s" : "") +
             " (a paused VM: answers nothing, nobody told)";
    case Kind::thaw:
      return "thaw " + target;
    case Kind::link_delay:
      return "delay between " + target + " and its route servers: " + config::secs(duration) +
             " s one way";
    case Kind::reload:
      return "reload " + target + "'s configuration";
    case Kind::backend:
      return "set backend " + backend + " of " + target + "'s service " + service + " to " +
             (weight ? "weight " + std::to_string(*weight) : state);
    case Kind::route_map: {
      std::string s;
      for (auto a : asns) s += (s.empty() ? "" : " ") + std::to_string(a);
      return "route map on " + target + ": prepend " + (s.empty() ? "nothing" : s);
    }
  }
  return "?";
}

Result<Topology, ConfigError> load_topology_string(const std::string& text,
                                                   const std::string& name) {
  Loader l(name, text);
  return config::load_yaml<Topology>(text, name,
                                     [&](const YAML::Node& root) { return l.read(root); });
}

Result<Topology, ConfigError> load_topology(const std::string& path) {
  auto text = config::read_text(path);
  if (!text) return Err(text.error());
  return load_topology_string(*text, path);
}

}  // namespace anycastd::lab
