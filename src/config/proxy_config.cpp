#include "config/proxy_config.hpp"

#include <algorithm>
#include <sstream>

namespace anycastd::config {
namespace {

using proxy::Balance;
using proxy::HashOn;
using proxy::Protocol;

uint16_t port(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  if (!n) r.fail(n, path, "missing required key 'port'");
  return static_cast<uint16_t>(r.integer(n, path, 1, 65535));
}

proxy::BackendConfig read_backend(const YamlReader& r, const YAML::Node& n, const std::string& path,
                                  const std::vector<health::CheckConfig>& checks) {
  r.require_map(n, path);
  r.only_keys(n, path, {"address", "port", "weight", "checks"});
  proxy::BackendConfig b;
  if (!n["address"]) r.fail(n, path, "missing required key 'address'");
  if (!n["port"]) r.fail(n, path, "missing required key 'port'");
  b.endpoint = {r.address(n["address"], path + ".address"), port(r, n["port"], path + ".port")};
  if (n["weight"])
    b.weight = static_cast<uint32_t>(r.integer(n["weight"], path + ".weight", 0, 256));
  if (auto c = n["checks"]) {
    if (!c.IsSequence()) r.fail(c, path + ".checks", "expected a list of check names");
    for (size_t i = 0; i < c.size(); ++i) {
      auto name = r.string(c[i], path + ".checks[" + std::to_string(i) + "]");
      if (std::none_of(checks.begin(), checks.end(), [&](auto& k) { return k.name == name; }))
        r.fail(c[i], path + ".checks[" + std::to_string(i) + "]",
               "no check named '" + name + "' (define it under 'checks')");
      b.checks.push_back(name);
    }
  }
  return b;
}

template <typename E>
E choice(const YamlReader& r, const YAML::Node& n, const std::string& path,
         std::initializer_list<std::pair<const char*, E>> options) {
  auto s = r.string(n, path);
  std::string list;
  for (auto& [name, value] : options) {
    if (s == name) return value;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  r.fail(n, path, "expected " + list + ", got '" + s + "'");
}

proxy::Forwarding forwarding(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  return choice<proxy::Forwarding>(r, n, path,
                                   {{"auto", proxy::Forwarding::automatic},
                                    {"kernel", proxy::Forwarding::kernel},
                                    {"user", proxy::Forwarding::user},
                                    {"nat", proxy::Forwarding::nat}});
}

proxy::ServiceConfig read_service(const YamlReader& r, const YAML::Node& n, const std::string& path,
                                  const std::vector<health::CheckConfig>& checks,
                                  proxy::Forwarding default_forwarding) {
  r.require_map(n, path);
  r.only_keys(n, path,
              {"name", "address", "port", "protocol", "balance", "hash", "backends",
               "connect-timeout", "idle-timeout", "max-connections", "proxy-protocol", "splice",
               "drain-time", "retries", "add-address", "forwarding"});
  proxy::ServiceConfig s;
  for (const char* k : {"name", "address", "port", "backends"})
    if (!n[k]) r.fail(n, path, "missing required key '" + std::string(k) + "'");
  s.name = r.string(n["name"], path + ".name");
  s.listen = {r.address(n["address"], path + ".address"), port(r, n["port"], path + ".port")};
  if (n["protocol"])
    s.protocol = choice<Protocol>(r, n["protocol"], path + ".protocol",
                                  {{"tcp", Protocol::tcp}, {"udp", Protocol::udp}});
  if (n["balance"])
    s.balance = choice<Balance>(r, n["balance"], path + ".balance",
                                {{"roundrobin", Balance::round_robin},
                                 {"leastconn", Balance::least_conn},
                                 {"maglev", Balance::maglev}});
  if (n["hash"])
    s.hash = choice<HashOn>(r, n["hash"], path + ".hash",
                            {{"client", HashOn::client}, {"5-tuple", HashOn::five_tuple}});
  if (s.protocol == Protocol::udp) s.idle_timeout = std::chrono::seconds(30);
  if (n["connect-timeout"])
    s.connect_timeout = r.seconds(n["connect-timeout"], path + ".connect-timeout", 0.01, 3600);
  if (n["idle-timeout"])
    s.idle_timeout = r.seconds(n["idle-timeout"], path + ".idle-timeout", 0.01, 86400);
  else if (s.protocol == Protocol::tcp && n["forwarding"] && n["forwarding"].IsScalar() &&
           n["forwarding"].Scalar() == "nat")
    s.idle_timeout = std::chrono::seconds(900);  // IPVS's established timeout
  if (n["drain-time"]) s.drain_time = r.seconds(n["drain-time"], path + ".drain-time", 0, 3600);
  if (n["max-connections"])
    s.max_connections = static_cast<uint32_t>(
        r.integer(n["max-connections"], path + ".max-connections", 1, 1000000));
  if (n["retries"])
    s.retries = static_cast<uint32_t>(r.integer(n["retries"], path + ".retries", 0, 8));
  if (n["proxy-protocol"])
    s.proxy_protocol = r.boolean(n["proxy-protocol"], path + ".proxy-protocol");
  if (n["splice"]) s.splice = r.boolean(n["splice"], path + ".splice");
  if (n["add-address"]) s.add_address = r.boolean(n["add-address"], path + ".add-address");
  s.forwarding = default_forwarding;
  if (n["forwarding"]) s.forwarding = forwarding(r, n["forwarding"], path + ".forwarding");
  if (s.protocol == Protocol::udp) {
    for (const char* k : {"proxy-protocol", "splice"})
      if (n[k] && r.boolean(n[k], path + "." + k))
        r.fail(n[k], path + "." + k, "only for protocol tcp");
    if (n["forwarding"] && s.forwarding == proxy::Forwarding::kernel)
      r.fail(n["forwarding"], path + ".forwarding",
             "kernel: udp has no sockmap path; 'nat' forwards it in the kernel");
    if (!n["forwarding"] || s.forwarding == proxy::Forwarding::automatic)
      s.forwarding = proxy::Forwarding::user;
  }
  // Address translation hands the backends the clients' own addresses, so their answers must
  // route back through this host: only a service that says so itself gets it.
  if (s.forwarding == proxy::Forwarding::nat && s.proxy_protocol)
    r.fail(n["proxy-protocol"], path + ".proxy-protocol",
           "forwarding: nat sends no PROXY header (the backends see the clients' addresses)");
  auto bs = n["backends"];
  if (!bs.IsSequence() || bs.size() == 0)
    r.fail(bs, path + ".backends", "expected a list of at least one backend");
  for (size_t i = 0; i < bs.size(); ++i) {
    auto bp = path + ".backends[" + std::to_string(i) + "]";
    auto b = read_backend(r, bs[i], bp, checks);
    for (const auto& o : s.backends)
      if (o.endpoint == b.endpoint)
        r.fail(bs[i], bp, "duplicate backend " + b.endpoint.to_string());
    s.backends.push_back(std::move(b));
  }
  if (s.forwarding == proxy::Forwarding::nat) {
    // The program keeps no per-backend counts to compare: rather than round robin in its
    // place, say so.
    if (s.balance == Balance::least_conn)
      r.fail(n["balance"], path + ".balance",
             "leastconn needs connection counts that address translation (forwarding: nat) does "
             "not keep; use roundrobin or maglev");
    if (!s.listen.address.is_v4())
      r.fail(n["forwarding"], path + ".forwarding", "nat: address translation is IPv4 only");
    if (s.backends.size() > proxy::kNatBackends)
      r.fail(n["forwarding"], path + ".forwarding",
             "nat: address translation takes at most " + std::to_string(proxy::kNatBackends) +
                 " backends");
    for (size_t i = 0; i < s.backends.size(); ++i)
      if (!s.backends[i].endpoint.address.is_v4())
        r.fail(bs[i], path + ".backends[" + std::to_string(i) + "]",
               "address translation (forwarding: nat) is IPv4 only");
  }
  if (s.listen.address.is_v4() != s.backends.front().endpoint.address.is_v4() && s.proxy_protocol)
    r.fail(n["proxy-protocol"], path + ".proxy-protocol",
           "PROXY v2 needs the listener and the backends in one address family");
  return s;
}

}  // namespace

std::vector<proxy::ServiceConfig> read_services(const YamlReader& r, const YAML::Node& n,
                                                const std::vector<health::CheckConfig>& checks,
                                                proxy::Forwarding default_forwarding) {
  if (!n.IsSequence()) r.fail(n, "services", "expected a list of services");
  std::vector<proxy::ServiceConfig> out;
  for (size_t i = 0; i < n.size(); ++i) {
    auto path = "services[" + std::to_string(i) + "]";
    auto s = read_service(r, n[i], path, checks, default_forwarding);
    for (const auto& o : out) {
      if (o.name == s.name) r.fail(n[i]["name"], path + ".name", "duplicate service " + s.name);
      // Address translation finds a backend's VIP from its address and port alone (any NVA
      // of the region can translate its answers), so that pair serves one nat service.
      if (o.forwarding == proxy::Forwarding::nat && s.forwarding == proxy::Forwarding::nat &&
          o.protocol == s.protocol)
        for (size_t b = 0; b < s.backends.size(); ++b)
          for (const auto& ob : o.backends)
            if (ob.endpoint == s.backends[b].endpoint)
              r.fail(n[i]["backends"][b], path + ".backends[" + std::to_string(b) + "]",
                     s.backends[b].endpoint.to_string() + " is already a backend of nat service " +
                         o.name + ": its answers could not tell which VIP to come from");
      // SO_REUSEPORT would let both bind, and the kernel would split clients between them.
      if (o.listen == s.listen && o.protocol == s.protocol)
        r.fail(n[i]["port"], path + ".port",
               s.listen.to_string() + " is already service " + o.name + "'s");
    }
    out.push_back(std::move(s));
  }
  return out;
}

void read_proxy(const YamlReader& r, const YAML::Node& n, proxy::ProxyConfig& p) {
  r.require_map(n, "proxy");
  r.only_keys(n, "proxy", {"threads", "forwarding", "nat-state"});
  if (auto st = n["nat-state"]) {
    p.nat_state = r.string(st, "proxy.nat-state");
    if (p.nat_state == "none")
      p.nat_state.clear();
    else if (p.nat_state.empty() || p.nat_state[0] != '/')
      r.fail(st, "proxy.nat-state", "expected an absolute path on a bpf filesystem, or none");
  }
  if (n["threads"])
    p.threads = static_cast<uint32_t>(r.integer(n["threads"], "proxy.threads", 0, 64));
  if (n["forwarding"]) p.forwarding = forwarding(r, n["forwarding"], "proxy.forwarding");
  if (p.forwarding == proxy::Forwarding::nat)
    r.fail(n["forwarding"], "proxy.forwarding",
           "nat is chosen per service: its backends see the clients' addresses");
}

std::string print_proxy(const proxy::ProxyConfig& p) {
  std::ostringstream o;
  o << "proxy:\n  threads: " << p.threads << "\n  forwarding: " << to_string(p.forwarding)
    << "\n  nat-state: " << (p.nat_state.empty() ? "none" : "\"" + p.nat_state + "\"") << "\n";
  o << "services:" << (p.services.empty() ? " []" : "") << "\n";
  const char* balances[] = {"roundrobin", "leastconn", "maglev"};
  for (const auto& s : p.services) {
    o << "  - name: \"" << s.name << "\"\n    address: " << s.listen.address.to_string()
      << "\n    port: " << s.listen.port
      << "\n    protocol: " << (s.protocol == Protocol::tcp ? "tcp" : "udp")
      << "\n    balance: " << balances[static_cast<int>(s.balance)]
      << "\n    hash: " << (s.hash == HashOn::client ? "client" : "5-tuple")
      << "\n    connect-timeout: " << secs(s.connect_timeout)
      << "\n    idle-timeout: " << secs(s.idle_timeout)
      << "\n    drain-time: " << secs(s.drain_time)
      << "\n    max-connections: " << s.max_connections << "\n    retries: " << s.retries
      << "\n    proxy-protocol: " << (s.proxy_protocol ? "true" : "false")
      << "\n    splice: " << (s.splice ? "true" : "false")
      << "\n    forwarding: " << to_string(s.forwarding)
      << "\n    add-address: " << (s.add_address ? "true" : "false") << "\n    backends:\n";
    for (const auto& b : s.backends) {
      o << "      - address: " << b.endpoint.address.to_string()
        << "\n        port: " << b.endpoint.port << "\n        weight: " << b.weight
        << "\n        checks: [";
      for (size_t i = 0; i < b.checks.size(); ++i)
        o << (i ? ", " : "") << '"' << b.checks[i] << '"';
      o << "]\n";
    }
  }
  return o.str();
}

}  // namespace anycastd::config
