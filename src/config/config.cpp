#include "config/config.hpp"

#include <sys/stat.h>
#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "config/communities.hpp"
#include "config/health_config.hpp"
#include "config/policy_config.hpp"
#include "config/proxy_config.hpp"
#include "config/yaml_reader.hpp"

namespace anycastd::config {

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  return out + message;
}

namespace {

// TCP-MD5 keys are at most 80 bytes (the kernel's TCP_MD5SIG_MAXKEYLEN, as BIRD and FRR).
constexpr size_t kMaxPasswordLength = 80;

void read_password(const YamlReader& r, const YAML::Node& n, const std::string& path,
                   bgp::PeerConfig& p) {
  if (n["password"] && n["password-file"])
    r.fail(n["password-file"], path + ".password-file", "give either password or password-file");
  YAML::Node at;
  std::string field;
  if (n["password"]) {
    at = n["password"];
    field = path + ".password";
    p.password = r.string(at, field);
  } else if (n["password-file"]) {
    at = n["password-file"];
    field = path + ".password-file";
    p.password_file = r.string(at, field);
    auto file = r.beside(p.password_file);
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
      r.fail(at, field, "cannot open " + file + ": " + std::strerror(errno));
    // Only a regular file, and only as much as a key can be: a device or a FIFO named
    // here must neither hang the load nor fill memory.
    if (!S_ISREG(st.st_mode)) r.fail(at, field, file + " is not a regular file");
    std::ifstream in(file);
    if (!in) r.fail(at, field, "cannot open " + file + ": " + std::strerror(errno));
    // Room for one byte past the limit (and a CR), so an overlong key is refused below.
    char first[kMaxPasswordLength + 3] = {};
    in.getline(first, sizeof first);
    p.password = first;
    if (!p.password.empty() && p.password.back() == '\r') p.password.pop_back();
    if (st.st_mode & S_IROTH) r.warn(at, field, file + " is readable by every user; chmod o-r it");
  } else {
    return;
  }
  if (p.password.empty()) r.fail(at, field, "the password is empty");
  if (p.password.size() > kMaxPasswordLength)
    r.fail(at, field,
           "longer than " + std::to_string(kMaxPasswordLength) + " bytes (TCP-MD5 limit)");
}

bgp::PeerConfig read_peer(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  r.require_map(n, path);
  r.only_keys(n, path,
              {"address",
               "remote-as",
               "port",
               "passive",
               "hold-time",
               "local-address",
               "next-hop-ipv4",
               "next-hop-ipv6",
               "connect-retry",
               "import",
               "export",
               "allow-own-as",
               "route-reflector-client",
               "route-server-client",
               "max-prefix",
               "mrai",
               "require-route-refresh",
               "error-wait-time",
               "error-forget-time",
               "password",
               "password-file",
               "ttl-security",
               "multihop",
               "bfd"});
  bgp::PeerConfig p;
  if (!n["address"]) r.fail(n, path, "missing required key 'address'");
  if (!n["remote-as"]) r.fail(n, path, "missing required key 'remote-as'");
  p.address = r.address(n["address"], path + ".address");
  p.remote_as = r.asn(n["remote-as"], path + ".remote-as");
  if (n["port"]) p.port = static_cast<uint16_t>(r.integer(n["port"], path + ".port", 1, 65535));
  if (n["passive"]) p.passive = r.boolean(n["passive"], path + ".passive");
  if (n["hold-time"]) {
    auto h = r.integer(n["hold-time"], path + ".hold-time", 0, 65535);
    if (h == 1 || h == 2)
      r.fail(n["hold-time"], path + ".hold-time", "must be 0 or at least 3 seconds (RFC 4271)");
    p.hold_time = static_cast<uint16_t>(h);
  }
  if (n["local-address"]) {
    p.local_address = r.address(n["local-address"], path + ".local-address");
    if (p.local_address->family() != p.address.family())
      r.fail(n["local-address"], path + ".local-address", "must be the same family as 'address'");
  }
  if (n["next-hop-ipv4"]) {
    p.next_hop_v4 = r.address(n["next-hop-ipv4"], path + ".next-hop-ipv4");
    if (!p.next_hop_v4->is_v4())
      r.fail(n["next-hop-ipv4"], path + ".next-hop-ipv4", "must be an IPv4 address");
  }
  if (n["next-hop-ipv6"]) {
    p.next_hop_v6 = r.address(n["next-hop-ipv6"], path + ".next-hop-ipv6");
    if (!p.next_hop_v6->is_v6())
      r.fail(n["next-hop-ipv6"], path + ".next-hop-ipv6", "must be an IPv6 address");
  }
  if (n["connect-retry"])
    p.connect_retry =
        std::chrono::seconds(r.integer(n["connect-retry"], path + ".connect-retry", 1, 3600));
  if (n["import"]) p.import_policy = r.string(n["import"], path + ".import");
  if (n["export"]) p.export_policy = r.string(n["export"], path + ".export");
  if (n["allow-own-as"])
    p.allow_own_as =
        static_cast<uint32_t>(r.integer(n["allow-own-as"], path + ".allow-own-as", 0, 10));
  if (n["route-reflector-client"])
    p.route_reflector_client =
        r.boolean(n["route-reflector-client"], path + ".route-reflector-client");
  if (n["route-server-client"])
    p.route_server_client = r.boolean(n["route-server-client"], path + ".route-server-client");
  if (auto m = n["max-prefix"]) {
    std::string mp = path + ".max-prefix";
    if (m.IsScalar()) {
      p.max_prefix.limit = static_cast<uint32_t>(r.integer(m, mp, 1, 100000000));
    } else {
      r.require_map(m, mp);
      r.only_keys(m, mp, {"limit", "warning-percent", "action", "restart-after"});
      if (!m["limit"]) r.fail(m, mp, "missing required key 'limit'");
      p.max_prefix.limit =
          static_cast<uint32_t>(r.integer(m["limit"], mp + ".limit", 1, 100000000));
      if (m["warning-percent"])
        p.max_prefix.warning_percent =
            static_cast<uint8_t>(r.integer(m["warning-percent"], mp + ".warning-percent", 1, 100));
      if (m["action"]) {
        auto a = r.string(m["action"], mp + ".action");
        if (a != "warn" && a != "restart")
          r.fail(m["action"], mp + ".action", "expected 'warn' or 'restart'");
        p.max_prefix.restart = a == "restart";
      }
      if (m["restart-after"])
        p.max_prefix.restart_after =
            std::chrono::seconds(r.integer(m["restart-after"], mp + ".restart-after", 1, 86400));
    }
  }
  if (n["mrai"]) p.mrai = std::chrono::seconds(r.integer(n["mrai"], path + ".mrai", 0, 600));
  if (n["require-route-refresh"])
    p.require_route_refresh =
        r.boolean(n["require-route-refresh"], path + ".require-route-refresh");
  if (auto w = n["error-wait-time"]) {
    std::string wp = path + ".error-wait-time";
    if (w.IsScalar()) {
      p.error_wait_min = p.error_wait_max = r.seconds(w, wp, 0.1, 3600);
    } else {
      r.require_map(w, wp);
      r.only_keys(w, wp, {"min", "max"});
      if (w["min"]) p.error_wait_min = r.seconds(w["min"], wp + ".min", 0.1, 3600);
      if (w["max"]) p.error_wait_max = r.seconds(w["max"], wp + ".max", 0.1, 3600);
      if (p.error_wait_max < p.error_wait_min)
        r.fail(w["max"] ? w["max"] : w, wp + ".max",
               "must be at least min (" + secs(p.error_wait_min) + " s)");
    }
  }
  if (n["error-forget-time"])
    p.error_forget = r.seconds(n["error-forget-time"], path + ".error-forget-time", 1, 86400);
  read_password(r, n, path, p);
  if (n["ttl-security"]) p.ttl_security = r.boolean(n["ttl-security"], path + ".ttl-security");
  if (n["multihop"]) {
    if (p.ttl_security)
      r.fail(n["multihop"], path + ".multihop",
             "not with ttl-security (GTSM here is for directly connected peers)");
    p.multihop = static_cast<uint8_t>(r.integer(n["multihop"], path + ".multihop", 1, 255));
  }
  if (auto b = n["bfd"]) {
    std::string bp = path + ".bfd";
    if (b.IsScalar()) {
      if (r.boolean(b, bp)) p.bfd = bfd::Params{};
    } else {
      r.require_map(b, bp);
      r.only_keys(b, bp, {"min-rx", "min-tx", "multiplier"});
      bfd::Params bf;
      // Milliseconds, as BIRD's `min rx interval 300 ms` and FRR's `receive-interval 300`.
      auto ms = [&](const char* key, Duration& out) {
        if (b[key]) out = std::chrono::milliseconds(r.integer(b[key], bp + "." + key, 10, 60000));
      };
      ms("min-rx", bf.min_rx);
      ms("min-tx", bf.min_tx);
      if (b["multiplier"])
        bf.multiplier =
            static_cast<uint8_t>(r.integer(b["multiplier"], bp + ".multiplier", 1, 255));
      p.bfd = bf;
    }
  }
  return p;
}

bgp::VipConfig read_vip(const YamlReader& r, const YAML::Node& n, const std::string& path,
                        bool network = false) {
  r.require_map(n, path);
  if (network) {
    r.only_keys(
        n, path,
        {"prefix", "next-hop", "prepend", "path-asns", "communities", "large-communities", "med"});
  } else {
    r.only_keys(n, path,
                {"prefix", "next-hop", "prepend", "path-asns", "communities", "large-communities",
                 "med", "health"});
  }
  bgp::VipConfig v;
  v.network = network;
  if (!n["prefix"]) r.fail(n, path, "missing required key 'prefix'");
  v.prefix = r.prefix(n["prefix"], path + ".prefix");
  if (!network && v.prefix.length() != v.prefix.address().byte_size() * 8)
    r.fail(n["prefix"], path + ".prefix", "a VIP is a single address: use /32 or /128");
  if (n["next-hop"]) {
    auto s = r.string(n["next-hop"], path + ".next-hop");
    if (s != "self") {
      v.next_hop = r.address(n["next-hop"], path + ".next-hop");
      if (v.next_hop->family() != v.prefix.family())
        r.fail(n["next-hop"], path + ".next-hop",
               "must be 'self' or an address of the VIP's family");
    }
  }
  if (n["prepend"])
    v.prepend = static_cast<uint32_t>(r.integer(n["prepend"], path + ".prepend", 0, 32));
  if (n["med"]) v.med = static_cast<uint32_t>(r.integer(n["med"], path + ".med", 0, 4294967295ull));
  if (auto c = n["path-asns"]) {
    if (!c.IsSequence()) r.fail(c, path + ".path-asns", "expected a list of AS numbers");
    for (size_t i = 0; i < c.size(); ++i)
      v.path_asns.push_back(r.asn(c[i], path + ".path-asns[" + std::to_string(i) + "]"));
  }
  if (auto c = n["communities"]) {
    if (!c.IsSequence()) r.fail(c, path + ".communities", "expected a list");
    for (size_t i = 0; i < c.size(); ++i)
      v.communities.push_back(community(r, c[i], path + ".communities[" + std::to_string(i) + "]"));
  }
  if (auto c = n["large-communities"]) {
    if (!c.IsSequence()) r.fail(c, path + ".large-communities", "expected a list");
    for (size_t i = 0; i < c.size(); ++i)
      v.large_communities.push_back(
          large_community(r, c[i], path + ".large-communities[" + std::to_string(i) + "]"));
  }
  return v;
}

fib::FibConfig read_fib(const YamlReader& r, const YAML::Node& n) {
  fib::FibConfig f;
  auto kind = [&](const YAML::Node& k, const std::string& path) {
    auto v = r.string(k, path);
    if (v != "kernel" && v != "none")
      r.fail(k, path, "expected 'kernel' or 'none', got '" + v + "'");
    return v == "kernel";
  };
  if (n.IsScalar()) {
    f.kernel = kind(n, "fib");
    return f;
  }
  r.require_map(n, "fib");
  r.only_keys(n, "fib", {"type", "table", "protocol", "metric"});
  f.kernel = n["type"] ? kind(n["type"], "fib.type") : true;
  if (n["table"])
    f.table = static_cast<uint32_t>(r.integer(n["table"], "fib.table", 1, 0xfffffffe));
  if (n["protocol"])
    f.protocol = static_cast<uint8_t>(r.integer(n["protocol"], "fib.protocol", 5, 255));
  if (n["metric"])
    f.metric = static_cast<uint32_t>(r.integer(n["metric"], "fib.metric", 0, 0xffffffff));
  return f;
}

ControlConfig read_control(const YamlReader& r, const YAML::Node& n) {
  ControlConfig c;
  if (n.IsScalar() && n.Scalar() == "none") return {"", 0};
  r.require_map(n, "control");
  r.only_keys(n, "control", {"socket", "mode"});
  if (n["socket"]) {
    c.socket = r.string(n["socket"], "control.socket");
    if (c.socket.empty() || c.socket[0] != '/')
      r.fail(n["socket"], "control.socket", "expected an absolute path");
    if (c.socket.size() > 107) r.fail(n["socket"], "control.socket", "longer than 107 bytes");
  }
  if (n["mode"]) {
    auto m = r.string(n["mode"], "control.mode");
    char* end = nullptr;
    unsigned long v = std::strtoul(m.c_str(), &end, 8);
    if (m.empty() || *end || v > 0777 || (v & 0007))
      r.fail(n["mode"], "control.mode",
             "expected an octal mode like \"0600\" or \"0660\", with no access for others");
    c.mode = static_cast<unsigned>(v);
  }
  return c;
}

Config read(const YamlReader& r, const YAML::Node& root) {
  if (!root.IsDefined() || root.IsNull()) r.fail(root, "", "the file is empty");
  r.require_map(root, "");
  r.only_keys(root, "",
              {"router-id", "local-as", "listen", "peers", "vips", "networks", "policies",
               "decision", "fib", "checks", "services", "proxy", "control", "metrics"});
  Config c;
  if (!root["router-id"]) r.fail(root, "router-id", "missing required key 'router-id'");
  if (!root["local-as"]) r.fail(root, "local-as", "missing required key 'local-as'");
  auto rid = r.address(root["router-id"], "router-id");
  if (!rid.is_v4() || rid.is_unspecified())
    r.fail(root["router-id"], "router-id", "must be a non-zero IPv4 address");
  c.bgp.router_id = rid.v4_value();
  c.bgp.local_as = r.asn(root["local-as"], "local-as");
  if (auto l = root["listen"]) {
    r.require_map(l, "listen");
    r.only_keys(l, "listen", {"address", "port"});
    if (!l["address"]) r.fail(l, "listen", "missing required key 'address'");
    c.bgp.listen_address = r.address(l["address"], "listen.address");
    if (l["port"])
      c.bgp.listen_port = static_cast<uint16_t>(r.integer(l["port"], "listen.port", 1, 65535));
  }
  if (auto pol = root["policies"]) c.bgp.policies = read_policies(r, pol);
  c.bgp.policies.emplace(kAcceptPolicy, policy::accept_all(kAcceptPolicy));
  c.bgp.policies.emplace(kRejectPolicy, policy::reject_all(kRejectPolicy));
  if (auto d = root["decision"]) c.bgp.decision = read_decision(r, d);
  if (auto f = root["fib"]) c.fib = read_fib(r, f);
  if (auto ch = root["checks"]) c.health.checks = read_checks(r, ch);
  if (auto px = root["proxy"]) read_proxy(r, px, c.proxy);
  if (auto sv = root["services"])
    c.proxy.services = read_services(r, sv, c.health.checks, c.proxy.forwarding);
  if (auto ct = root["control"]) c.control = read_control(r, ct);
  // Each anycastd on a host (one per control socket) keeps its own tables.
  if ((!root["proxy"] || !root["proxy"]["nat-state"]) && !c.control.socket.empty()) {
    std::string instance = c.control.socket.substr(1);
    std::replace(instance.begin(), instance.end(), '/', '-');
    c.proxy.nat_state = "/sys/fs/bpf/anycastd/" + instance;
  }
  if (auto m = root["metrics"]) {
    r.require_map(m, "metrics");
    r.only_keys(m, "metrics", {"address", "port", "healthz"});
    if (auto h = m["healthz"]) {
      auto v = r.string(h, "metrics.healthz");
      using H = MetricsConfig::Healthz;
      if (v == "any-vip")
        c.metrics.healthz = H::any_vip;
      else if (v == "all-vips")
        c.metrics.healthz = H::all_vips;
      else if (v == "session")
        c.metrics.healthz = H::session;
      else if (v == "not-draining")
        c.metrics.healthz = H::not_draining;
      else
        r.fail(h, "metrics.healthz",
               "expected any-vip, all-vips, session or not-draining, got '" + v + "'");
    }
    c.metrics.address =
        m["address"] ? r.address(m["address"], "metrics.address") : *IpAddress::parse("127.0.0.1");
    if (m["port"])
      c.metrics.port = static_cast<uint16_t>(r.integer(m["port"], "metrics.port", 1, 65535));
  }
  std::set<IpAddress> peers_seen;
  std::set<Prefix> prefixes_seen;
  if (auto peers = root["peers"]) {
    if (!peers.IsSequence()) r.fail(peers, "peers", "expected a list of peers");
    for (size_t i = 0; i < peers.size(); ++i) {
      std::string path = "peers[" + std::to_string(i) + "]";
      auto p = read_peer(r, peers[i], path);
      // A set, not a scan of those before: a route server's file may list thousands.
      if (!peers_seen.insert(p.address).second)
        r.fail(peers[i]["address"], path + ".address", "duplicate peer " + p.address.to_string());
      for (const auto& [key, name] :
           {std::pair{"import", &p.import_policy}, std::pair{"export", &p.export_policy}})
        if (!name->empty() && !c.bgp.policies.count(*name))
          r.fail(
              peers[i][key], path + "." + key,
              "no policy named '" + *name + "' (define it under 'policies', or use accept/reject)");
      if (p.passive && !c.bgp.listen_address)
        r.fail(peers[i]["passive"], path + ".passive", "a passive peer needs 'listen' to be set");
      c.bgp.peers.push_back(p);
    }
  }
  if (auto vips = root["vips"]) {
    if (!vips.IsSequence()) r.fail(vips, "vips", "expected a list of VIPs");
    for (size_t i = 0; i < vips.size(); ++i) {
      std::string path = "vips[" + std::to_string(i) + "]";
      auto v = read_vip(r, vips[i], path);
      if (auto h = vips[i]["health"]) {
        c.health.vips[v.prefix] = read_vip_health(r, h, path + ".health", c.health.checks);
        v.start_announced = false;
      }
      if (!prefixes_seen.insert(v.prefix).second)
        r.fail(vips[i]["prefix"], path + ".prefix", "duplicate VIP " + v.prefix.to_string());
      c.bgp.vips.push_back(v);
    }
  }
  if (auto nets = root["networks"]) {
    if (!nets.IsSequence()) r.fail(nets, "networks", "expected a list of networks");
    for (size_t i = 0; i < nets.size(); ++i) {
      std::string path = "networks[" + std::to_string(i) + "]";
      auto v = read_vip(r, nets[i], path, true);
      if (!prefixes_seen.insert(v.prefix).second)
        r.fail(nets[i]["prefix"], path + ".prefix", "duplicate prefix " + v.prefix.to_string());
      c.bgp.vips.push_back(v);
    }
  }
  c.warnings = r.warnings();
  return c;
}

}  // namespace

Result<Config, ConfigError> load_string(const std::string& text, const std::string& name) {
  YamlReader r(name);
  return load_yaml<Config>(text, name, [&](const YAML::Node& root) { return read(r, root); });
}

Result<Config, ConfigError> load_file(const std::string& path) {
  auto text = read_text(path);
  if (!text) return Err(text.error());
  return load_string(*text, path);
}

std::string print(const Config& c) {
  std::ostringstream o;
  o << "router-id: " << IpAddress::v4(c.bgp.router_id).to_string() << "\n";
  o << "local-as: " << c.bgp.local_as << "\n";
  if (c.bgp.listen_address)
    o << "listen:\n  address: " << c.bgp.listen_address->to_string()
      << "\n  port: " << c.bgp.listen_port << "\n";
  o << "peers:" << (c.bgp.peers.empty() ? " []" : "") << "\n";
  for (const auto& p : c.bgp.peers) {
    o << "  - address: " << p.address.to_string() << "\n"
      << "    remote-as: " << p.remote_as << "\n"
      << "    port: " << p.port << "\n"
      << "    passive: " << (p.passive ? "true" : "false") << "\n"
      << "    hold-time: " << p.hold_time << "\n"
      << "    connect-retry: "
      << std::chrono::duration_cast<std::chrono::seconds>(p.connect_retry).count() << "\n";
    if (p.local_address) o << "    local-address: " << p.local_address->to_string() << "\n";
    if (p.next_hop_v4) o << "    next-hop-ipv4: " << p.next_hop_v4->to_string() << "\n";
    if (p.next_hop_v6) o << "    next-hop-ipv6: " << p.next_hop_v6->to_string() << "\n";
    if (!p.import_policy.empty()) o << "    import: " << p.import_policy << "\n";
    if (!p.export_policy.empty()) o << "    export: " << p.export_policy << "\n";
    o << "    allow-own-as: " << p.allow_own_as << "\n"
      << "    route-reflector-client: " << (p.route_reflector_client ? "true" : "false") << "\n"
      << "    route-server-client: " << (p.route_server_client ? "true" : "false") << "\n"
      << "    mrai: " << std::chrono::duration_cast<std::chrono::seconds>(p.mrai).count() << "\n";
    if (p.require_route_refresh) o << "    require-route-refresh: true\n";
    // The secret itself is never printed: the file it came from, or that one is set.
    if (p.ttl_security) o << "    ttl-security: true\n";
    if (p.multihop) o << "    multihop: " << int{p.multihop} << "\n";
    if (p.bfd) {
      auto ms = [](Duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
      };
      o << "    bfd: {min-rx: " << ms(p.bfd->min_rx) << ", min-tx: " << ms(p.bfd->min_tx)
        << ", multiplier: " << int{p.bfd->multiplier} << "}\n";
    }
    if (!p.password_file.empty())
      o << "    password-file: " << p.password_file << "\n";
    else if (!p.password.empty())
      o << "    password: set\n";
    o << "    error-wait-time: {min: " << secs(p.error_wait_min)
      << ", max: " << secs(p.error_wait_max) << "}\n    error-forget-time: " << secs(p.error_forget)
      << "\n";
    if (p.max_prefix.limit)
      o << "    max-prefix:\n      limit: " << p.max_prefix.limit
        << "\n      warning-percent: " << int{p.max_prefix.warning_percent}
        << "\n      action: " << (p.max_prefix.restart ? "restart" : "warn")
        << "\n      restart-after: "
        << std::chrono::duration_cast<std::chrono::seconds>(p.max_prefix.restart_after).count()
        << "\n";
  }
  o << print_decision(c.bgp.decision) << print_policies(c.bgp.policies);
  o << "fib:\n  type: " << (c.fib.kernel ? "kernel" : "none") << "\n  table: " << c.fib.table
    << "\n  protocol: " << int{c.fib.protocol} << "\n  metric: " << c.fib.metric << "\n";
  for (bool network : {false, true}) {
    size_t n = 0;
    for (const auto& v : c.bgp.vips) n += v.network == network;
    if (network && n == 0) continue;
    o << (network ? "networks:" : "vips:") << (n == 0 ? " []" : "") << "\n";
    for (const auto& v : c.bgp.vips) {
      if (v.network != network) continue;
      o << "  - prefix: " << v.prefix.to_string() << "\n"
        << "    next-hop: " << (v.next_hop ? v.next_hop->to_string() : "self") << "\n"
        << "    prepend: " << v.prepend << "\n";
      if (!v.path_asns.empty()) {
        o << "    path-asns: [";
        for (size_t i = 0; i < v.path_asns.size(); ++i) o << (i ? ", " : "") << v.path_asns[i];
        o << "]\n";
      }
      if (v.med) o << "    med: " << *v.med << "\n";
      o << "    communities: [";
      for (size_t i = 0; i < v.communities.size(); ++i)
        o << (i ? ", " : "") << '"' << bgp::community_to_string(v.communities[i]) << '"';
      o << "]\n    large-communities: [";
      for (size_t i = 0; i < v.large_communities.size(); ++i)
        o << (i ? ", " : "") << '"' << bgp::large_community_to_string(v.large_communities[i])
          << '"';
      o << "]\n";
      if (auto h = c.health.vips.find(v.prefix); h != c.health.vips.end())
        o << print_vip_health(h->second, "    ");
    }
  }
  o << print_checks(c.health.checks);
  o << print_proxy(c.proxy);
  if (c.metrics.address)
    o << "metrics:\n  address: " << c.metrics.address->to_string() << "\n  port: " << c.metrics.port
      << "\n  healthz: " << to_string(c.metrics.healthz) << "\n";
  if (c.control.socket.empty()) {
    o << "control: none\n";
  } else {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", c.control.mode);
    o << "control:\n  socket: \"" << c.control.socket << "\"\n  mode: \"" << mode << "\"\n";
  }
  return o.str();
}

std::optional<std::string> reload_blocker(const Config& running, const Config& next) {
  // Health checking itself starts and stops with the daemon.
  if (running.health.checks.empty() != next.health.checks.empty())
    return std::string(running.health.checks.empty() ? "checks were added"
                                                     : "checks were removed") +
           " to a configuration that " + (running.health.checks.empty() ? "had none" : "had some") +
           ": restart to apply it";
  // Everything but peers, VIPs, policies, checks and services' backends, printed: equal
  // text means equal settings.
  auto rest = [](Config c) {
    c.bgp.peers.clear();
    c.bgp.vips.clear();
    c.bgp.policies.clear();
    c.health = {};
    for (auto& s : c.proxy.services) s.backends.clear();
    return print(c);
  };
  auto a = rest(running), b = rest(next);
  if (a == b) return std::nullopt;
  return "a reload changes peers, VIPs, policies, checks and services' backends only; this "
         "changed too: " +
         first_changed_line(a, b) + ": restart to apply it";
}

const char* to_string(MetricsConfig::Healthz h) {
  switch (h) {
    case MetricsConfig::Healthz::all_vips:
      return "all-vips";
    case MetricsConfig::Healthz::session:
      return "session";
    case MetricsConfig::Healthz::not_draining:
      return "not-draining";
    case MetricsConfig::Healthz::any_vip:
      break;
  }
  return "any-vip";
}

std::string first_changed_line(const std::string& before, const std::string& after) {
  std::istringstream sa(before), sb(after);
  std::string la, lb;
  for (;;) {
    // Both read every time: one text may end first (a prefix of the other).
    bool ha = static_cast<bool>(std::getline(sa, la));
    bool hb = static_cast<bool>(std::getline(sb, lb));
    if (!ha && !hb) return "nothing";
    if (ha && hb && la == lb) continue;
    if (!ha) return "'" + lb + "' (new)";
    if (!hb) return "'" + la + "' (removed)";
    return "'" + lb + "' (was '" + la + "')";
  }
}

}  // namespace anycastd::config
