#include "config/config.hpp"

#include "bgp/session.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>

using namespace anycastd;
using namespace anycastd::config;

namespace {

const char* kGood = R"(router-id: 172.16.156.70
local-as: 65010
listen: {address: 127.0.0.1, port: 1790}
peers:
  - address: 172.16.159.4
    remote-as: 65515
  - address: 172.16.159.5
    remote-as: 65515
    hold-time: 9
    passive: true
vips:
  - prefix: 9.9.9.9/32
    prepend: 2
    communities: ["65010:100", graceful-shutdown]
    large-communities: ["65010:1:2"]
    med: 10
)";

// Seed 003's transit NVA: learns spoke prefixes from its route server, passes them to the
// other region's NVA with 65515 removed.
const char* kTransit = R"(router-id: 198.18.1.1
local-as: 65001
decision:
  tie-break: [lowest-next-hop]
  multipath: 2
policies:
  to-remote:
    - name: strip-route-server
      match:
        prefix: ["10.1.0.0/16 le 24"]
        as-path-contains: [65515]
      then:
        remove-as: 65515
        prepend: 1
        prepend-as: {asn: 11111, count: 2}
        add-communities: ["65001:1"]
        med: 5
        next-hop: self
        action: accept
    - then: reject
peers:
  - address: 198.18.1.4
    remote-as: 65515
    import: accept
    export: reject
    max-prefix: {limit: 4000, warning-percent: 90, action: restart, restart-after: 30}
  - address: 198.18.9.2
    remote-as: 65002
    import: accept
    export: to-remote
    allow-own-as: 1
    mrai: 1
)";

ConfigError error_of(const std::string& text) {
  auto r = load_string(text, "nva.yaml");
  EXPECT_FALSE(r.ok());
  return r.ok() ? ConfigError{} : r.error();
}

}  // namespace

TEST(Config, Seed004NvaLoads) {
  auto r = load_string(kGood, "nva.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->bgp.local_as, 65010u);
  ASSERT_EQ(r->bgp.peers.size(), 2u);
  EXPECT_EQ(r->bgp.peers[0].hold_time, 90);
  EXPECT_EQ(r->bgp.peers[1].hold_time, 9);
  EXPECT_EQ(r->bgp.vips[0].prepend, 2u);
  EXPECT_EQ(r->bgp.vips[0].communities[1], 0xFFFF0000u);
}

TEST(Config, PrintedFormReadsBackToTheSameConfig) {
  auto a = load_string(kGood, "nva.yaml");
  auto printed = print(*a);
  auto b = load_string(printed, "printed.yaml");
  ASSERT_TRUE(b.ok()) << b.error().to_string() << "\n" << printed;
  EXPECT_EQ(print(*b), printed);
}

TEST(Config, PoliciesDecisionAndPeerOptionsLoad) {
  auto r = load_string(kTransit, "transit.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& b = r->bgp;
  EXPECT_EQ(b.decision.tie_breaks, std::vector<rib::TieBreak>{rib::TieBreak::lowest_next_hop});
  EXPECT_EQ(b.decision.multipath, 2u);
  const auto& pol = b.policies.at("to-remote");
  ASSERT_EQ(pol.terms.size(), 2u);
  const auto& t = pol.terms[0];
  EXPECT_EQ(t.name, "strip-route-server");
  EXPECT_TRUE(t.match.prefixes[0].matches(*Prefix::parse("10.1.2.0/24")));
  EXPECT_FALSE(t.match.prefixes[0].matches(*Prefix::parse("10.1.2.0/25")));
  EXPECT_EQ(t.actions.remove_asns, std::vector<uint32_t>{65515});
  ASSERT_EQ(t.actions.prepend.size(), 2u);
  EXPECT_EQ(t.actions.prepend[1].asn, 11111u);
  EXPECT_EQ(t.actions.prepend[1].count, 2u);
  EXPECT_TRUE(t.actions.next_hop_self);
  EXPECT_EQ(pol.terms[1].actions.verdict, policy::Actions::Verdict::reject);
  EXPECT_EQ(b.peers[0].max_prefix.limit, 4000u);
  EXPECT_EQ(b.peers[0].max_prefix.restart_after, std::chrono::seconds(30));
  EXPECT_EQ(b.peers[1].export_policy, "to-remote");
  EXPECT_EQ(b.peers[1].allow_own_as, 1u);
  EXPECT_EQ(b.peers[1].mrai, std::chrono::seconds(1));
  auto printed = print(*r);
  auto again = load_string(printed, "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << printed;
  EXPECT_EQ(print(*again), printed);
}

// A gateway's VNet ranges: originated prefixes of any length, with a route map's ASNs;
// a VIP stays a single address, and health is a VIP's alone.
TEST(Config, NetworksOriginateAnyLength) {
  auto c = load_string(
      "router-id: 1.2.3.4\nlocal-as: 65515\nvips: [{prefix: 9.9.9.9/32}]\n"
      "networks: [{prefix: 10.13.76.0/24, path-asns: [11111]}, {prefix: 192.168.128.0/23}]\n",
      "gw.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_EQ(c->bgp.vips.size(), 3u);
  EXPECT_FALSE(c->bgp.vips[0].network);
  EXPECT_TRUE(c->bgp.vips[1].network);
  EXPECT_EQ(c->bgp.vips[1].path_asns, std::vector<uint32_t>{11111});
  auto again = load_string(print(*c), "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << print(*c);
  EXPECT_EQ(again->bgp.vips, c->bgp.vips);
  auto e = load_string(
      "router-id: 1.2.3.4\nlocal-as: 1\nnetworks: [{prefix: 10.0.0.0/8, health: {}}]\n", "x.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().to_string().substr(0, 40), "x.yaml:3:33: networks[0].health: unknown");
}

// The settings the lab's Azure roles use, read and printed back.
TEST(Config, RouteServerAndEdgeSettingsRoundTrip) {
  auto c = load_string(
      "router-id: 1.2.3.4\nlocal-as: 65515\ndecision: {ignore-med: true}\n"
      "policies:\n  to-customer:\n    - then: {remove-private-as: true, action: accept}\n"
      "peers:\n  - {address: 10.0.0.1, remote-as: 65010, require-route-refresh: true, "
      "export: to-customer}\n",
      "rs.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->bgp.decision.ignore_med);
  EXPECT_TRUE(c->bgp.peers[0].require_route_refresh);
  EXPECT_TRUE(c->bgp.policies.at("to-customer").terms[0].actions.remove_private_asns);
  auto again = load_string(print(*c), "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << print(*c);
  EXPECT_TRUE(again->bgp.decision.ignore_med);
  EXPECT_TRUE(again->bgp.peers[0].require_route_refresh);
  EXPECT_TRUE(again->bgp.policies.at("to-customer").terms[0].actions.remove_private_asns);
}

TEST(Config, FibShortAndLongForms) {
  auto a = load_string("router-id: 1.2.3.4\nlocal-as: 1\nfib: kernel\n", "nva.yaml");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_TRUE(a->fib.kernel);
  EXPECT_EQ(a->fib.table, 254u);
  auto b = load_string("router-id: 1.2.3.4\nlocal-as: 1\nfib: {table: 100, metric: 5}\n", "x");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_TRUE(b->fib.kernel);
  EXPECT_EQ(b->fib.table, 100u);
  EXPECT_EQ(b->fib.metric, 5u);
  EXPECT_FALSE(load_string("router-id: 1.2.3.4\nlocal-as: 1\n", "x")->fib.kernel);
  auto again = load_string(print(*b), "printed.yaml");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->fib.table, 100u);
}

// An agent check's `send` (with its line feed, a quote and a control byte) prints as YAML
// that reads back to the same bytes.
TEST(Config, AgentCheckLoadsAndPrintsBack) {
  auto r = load_string(
      "router-id: 1.2.3.4\nlocal-as: 65010\nchecks:\n  agent: {type: agent, address: "
      "198.18.1.10, port: 9777, send: \"web/\\\"b1\\\"\\x01\\n\"}\n",
      "nva.yaml");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->health.checks.size(), 1u);
  const auto& a = r->health.checks[0];
  EXPECT_EQ(a.type, health::CheckType::agent);
  EXPECT_EQ(a.agent.send, "web/\"b1\"\x01\n");
  EXPECT_FALSE(a.watch);
  auto printed = print(*r);
  EXPECT_NE(printed.find("    type: agent\n"), std::string::npos) << printed;
  auto again = load_string(printed, "printed.yaml");
  ASSERT_TRUE(again) << again.error().to_string() << "\n" << printed;
  EXPECT_EQ(again->health.checks[0].agent.send, a.agent.send);
  EXPECT_EQ(print(*again), printed);
}

TEST(Config, ChecksAndVipHealthLoadAndPrintBack) {
  const char* text = R"(router-id: 1.2.3.4
local-as: 65010
checks:
  web:
    type: http
    address: 198.18.1.10
    port: 8080
    path: /health
    status: [200, 204]
    keep-alive: false
    interval: 0.2
    rise: 2
    fall: 3
  flag:
    type: exec
    command: [test, -e, /run/in-service]
  resolver:
    type: dns
    address: 198.18.1.53
    name: app.example
    answer: 1.1.1.1
  lb:
    type: haproxy
    socket: /run/haproxy/admin.sock
    backend: web
    server: weu-1
vips:
  - prefix: 198.18.9.9/32
    health:
      checks: [web, flag]
      rule: {min: 1}
      action: degrade
      degrade: {prepend: 4, communities: ["65010:666"], med: 200}
      damping: {changes: 4, window: 60, hold: 30, max-hold: 300}
      drain-time: 5
)";
  auto r = load_string(text, "nva.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->health.checks.size(), 4u);
  auto named = [&](const std::string& n) {
    for (const auto& c : r->health.checks)
      if (c.name == n) return c;
    return health::CheckConfig{};
  };
  const auto web = named("web");
  EXPECT_EQ(named("resolver").target.port, 53) << "DNS port by default";
  EXPECT_EQ(named("resolver").dns.qtype, 1);
  EXPECT_FALSE(named("resolver").watch) << "nothing to watch over UDP";
  EXPECT_EQ(named("lb").haproxy.socket, "/run/haproxy/admin.sock");
  EXPECT_EQ(named("lb").haproxy.server, "weu-1");
  EXPECT_EQ(web.interval, std::chrono::milliseconds(200));
  EXPECT_EQ(web.timeout, std::chrono::milliseconds(200));  // capped at the interval
  EXPECT_EQ(web.http.statuses, (std::vector<int>{200, 204}));
  EXPECT_FALSE(web.http.keep_alive);
  const auto& v = r->health.vips.at(*Prefix::parse("198.18.9.9/32"));
  EXPECT_EQ(v.rule, health::VipHealthConfig::Rule::min);
  EXPECT_EQ(v.degrade.prepend, 4u);
  EXPECT_EQ(v.damping.max_hold, std::chrono::seconds(300));
  EXPECT_FALSE(r->bgp.vips[0].start_announced);
  auto printed = print(*r);
  auto again = load_string(printed, "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << printed;
  EXPECT_EQ(print(*again), printed);
}

TEST(Config, ServicesLoadAndPrintBack) {
  auto r = load_string(R"(router-id: 198.18.156.70
local-as: 65010
checks:
  web1: {type: http, address: 10.13.76.10, port: 80}
proxy: {threads: 2}
services:
  - name: web
    address: 198.18.9.9
    port: 80
    balance: maglev
    hash: 5-tuple
    proxy-protocol: true
    idle-timeout: 120
    backends:
      - {address: 10.13.76.10, port: 80, weight: 3, checks: [web1]}
      - {address: 10.13.76.11, port: 80}
  - name: dns
    address: 198.18.9.9
    port: 53
    protocol: udp
    backends:
      - {address: 10.13.76.53, port: 53}
)",
                       "nva.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->proxy.services.size(), 2u);
  EXPECT_EQ(r->proxy.threads, 2u);
  const auto& web = r->proxy.services[0];
  EXPECT_EQ(web.listen.to_string(), "198.18.9.9:80");
  EXPECT_EQ(web.balance, proxy::Balance::maglev);
  EXPECT_EQ(web.hash, proxy::HashOn::five_tuple);
  EXPECT_TRUE(web.proxy_protocol);
  EXPECT_EQ(web.idle_timeout, std::chrono::seconds(120));
  EXPECT_EQ(web.backends[0].weight, 3u);
  EXPECT_EQ(web.backends[0].checks, std::vector<std::string>{"web1"});
  EXPECT_EQ(web.backends[1].weight, 1u);
  const auto& dns = r->proxy.services[1];
  EXPECT_EQ(dns.protocol, proxy::Protocol::udp);
  EXPECT_EQ(dns.idle_timeout, std::chrono::seconds(30)) << "UDP flows expire sooner";
  EXPECT_EQ(dns.balance, proxy::Balance::round_robin);
  auto printed = print(*r);
  auto again = load_string(printed, "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << printed;
  EXPECT_EQ(print(*again), printed);
}

TEST(Config, ControlSocketDefaultsAndForms) {
  auto def = load_string("router-id: 1.2.3.4\nlocal-as: 1\n", "nva.yaml");
  EXPECT_EQ(def->control.socket, "/run/anycastd/anycastd.sock");
  EXPECT_EQ(def->control.mode, 0600u);
  auto off = load_string("router-id: 1.2.3.4\nlocal-as: 1\ncontrol: none\n", "nva.yaml");
  EXPECT_TRUE(off->control.socket.empty());
  auto group = load_string(
      "router-id: 1.2.3.4\nlocal-as: 1\ncontrol: {socket: /run/x/ctl.sock, mode: \"0660\"}\n",
      "nva.yaml");
  ASSERT_TRUE(group.ok()) << group.error().to_string();
  EXPECT_EQ(group->control.mode, 0660u);
  EXPECT_FALSE(def->metrics.address) << "metrics are off unless configured";
  auto m = load_string("router-id: 1.2.3.4\nlocal-as: 1\nmetrics: {port: 9200}\n", "nva.yaml");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->metrics.address->to_string(), "127.0.0.1");
  EXPECT_EQ(m->metrics.port, 9200);
  auto mp = load_string(print(*m), "printed.yaml");
  ASSERT_TRUE(mp.ok());
  EXPECT_EQ(mp->metrics.port, 9200);
  for (const auto* c : {&*def, &*off, &*group}) {
    auto again = load_string(print(*c), "printed.yaml");
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    EXPECT_EQ(again->control.socket, c->control.socket);
    EXPECT_EQ(again->control.mode, c->control.mode);
  }
}

TEST(Config, ReloadMayChangePeersVipsAndPolicies) {
  auto load = [](const std::string& extra) {
    return *load_string("router-id: 1.2.3.4\nlocal-as: 65010\n" + extra, "nva.yaml");
  };
  auto base =
      load("peers:\n  - {address: 10.0.0.1, remote-as: 65515}\nvips:\n  - prefix: 9.9.9.9/32\n");
  auto peers = load(
      "peers:\n  - {address: 10.0.0.2, remote-as: 65515}\nvips:\n  - {prefix: 9.9.9.9/32, "
      "prepend: 2}\n  - prefix: 9.9.9.10/32\n");
  EXPECT_FALSE(reload_blocker(base, peers)) << *reload_blocker(base, peers);
  auto policy = load(
      "peers:\n  - {address: 10.0.0.1, remote-as: 65515, export: out}\nvips:\n  - prefix: "
      "9.9.9.9/32\npolicies:\n  out:\n    - then: {prepend: 2, action: accept}\n");
  EXPECT_FALSE(reload_blocker(base, policy)) << *reload_blocker(base, policy);
  auto other = load(
      "peers:\n  - {address: 10.0.0.1, remote-as: 65515}\nvips:\n  - prefix: 9.9.9.9/32\n"
      "fib: kernel\n");
  auto why = reload_blocker(base, other);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("'  type: kernel' (was '  type: none')"), std::string::npos) << *why;
  // Checks and a VIP's health settings apply in place; starting or stopping health checking
  // altogether needs a restart.
  auto checks = "checks:\n  web: {type: tcp, address: 10.0.0.9, port: 80}\n";
  auto h1 =
      load(std::string(checks) + "vips:\n  - {prefix: 9.9.9.9/32, health: {checks: [web]}}\n");
  auto h2 = load(
      "checks:\n  web: {type: tcp, address: 10.0.0.9, port: 81, interval: 2}\n"
      "vips:\n  - {prefix: 9.9.9.9/32, health: {checks: [web], drain-time: 3}}\n");
  EXPECT_FALSE(reload_blocker(h1, h2)) << *reload_blocker(h1, h2);
  auto none = reload_blocker(base, h1);
  ASSERT_TRUE(none);
  EXPECT_NE(none->find("checks were added"), std::string::npos) << *none;
}

struct BadCase {
  const char* name;
  std::string text;
  int line, column;
  std::string field;
  std::string message_part;
};

// The case's name in test listings, not its bytes (which hold pointers).
void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, IsRejectedAtItsPosition) {
  auto e = error_of(GetParam().text);
  EXPECT_EQ(e.file, "nva.yaml");
  EXPECT_EQ(e.line, GetParam().line) << e.to_string();
  EXPECT_EQ(e.column, GetParam().column) << e.to_string();
  EXPECT_EQ(e.field, GetParam().field) << e.to_string();
  EXPECT_NE(e.message.find(GetParam().message_part), std::string::npos) << e.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfig,
    ::testing::Values(
        BadCase{"unknown_key", "router-id: 1.2.3.4\nlocal-as: 1\nlocla-pref: 3\n", 3, 1,
                "locla-pref", "unknown key"},
        BadCase{
            "bad_address",
            "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - address: 10.0.0.300\n    remote-as: 2\n",
            4, 14, "peers[0].address", "not an IPv4 or IPv6 address"},
        BadCase{"keep_alive_on_tcp",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  t: {type: tcp, address: 10.0.0.1, "
                "port: 80, keep-alive: false}\n",
                4, 59, "checks.t.keep-alive", "only http checks take 'keep-alive'"},
        BadCase{"asn_range", "router-id: 1.2.3.4\nlocal-as: 4294967296\n", 2, 11, "local-as",
                "out of range"},
        BadCase{"duplicate_peer",
                "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - {address: 10.0.0.1, remote-as: 2}\n"
                "  - {address: 10.0.0.1, remote-as: 3}\n",
                5, 15, "peers[1].address", "duplicate peer"},
        BadCase{"vip_not_host", "router-id: 1.2.3.4\nlocal-as: 1\nvips:\n  - prefix: 9.9.9.0/24\n",
                4, 13, "vips[0].prefix", "/32 or /128"},
        BadCase{"hold_time_2",
                "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - {address: 10.0.0.1, remote-as: 2, "
                "hold-time: 2}\n",
                4, 50, "peers[0].hold-time", "at least 3"},
        BadCase{"bad_community",
                "router-id: 1.2.3.4\nlocal-as: 1\nvips:\n  - prefix: 9.9.9.9/32\n    communities: "
                "[\"65536:1\"]\n",
                5, 19, "vips[0].communities[0]", "not a community"},
        BadCase{"unknown_policy",
                "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - {address: 10.0.0.1, remote-as: 2, "
                "import: from-rs}\n",
                4, 47, "peers[0].import", "no policy named 'from-rs'"},
        BadCase{"bad_tie_break",
                "router-id: 1.2.3.4\nlocal-as: 1\ndecision: {tie-break: [newest]}\n", 3, 24,
                "decision.tie-break[0]", "lowest-next-hop"},
        BadCase{"bad_prefix_range",
                "router-id: 1.2.3.4\nlocal-as: 1\npolicies:\n  p:\n    - match: {prefix: "
                "[\"10.0.0.0/16 le 8\"]}\n      then: accept\n",
                5, 24, "policies.p[0].match.prefix[0]", "between 16 and 32"},
        BadCase{"bad_action",
                "router-id: 1.2.3.4\nlocal-as: 1\npolicies:\n  p:\n    - then: {action: drop}\n", 5,
                22, "policies.p[0].then.action", "'accept' or 'reject'"},
        BadCase{"bad_fib", "router-id: 1.2.3.4\nlocal-as: 1\nfib: kernal\n", 3, 6, "fib",
                "expected 'kernel' or 'none'"},
        BadCase{"fib_protocol_reserved",
                "router-id: 1.2.3.4\nlocal-as: 1\nfib: {type: kernel, protocol: 2}\n", 3, 31,
                "fib.protocol", "out of range"},
        BadCase{"unknown_check",
                "router-id: 1.2.3.4\nlocal-as: 1\nvips:\n  - prefix: 9.9.9.9/32\n    health: "
                "{checks: [web]}\n",
                5, 23, "vips[0].health.checks[0]", "no check named 'web'"},
        BadCase{"timeout_over_interval",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  web: {type: tcp, address: 10.0.0.1, "
                "port: 80, interval: 1, timeout: 2}\n",
                4, 71, "checks.web.timeout", "must not exceed the interval"},
        BadCase{"exec_without_command",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  x: {type: exec}\n", 4, 6,
                "checks.x.command", "as a list"},
        BadCase{"dns_without_name",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  d: {type: dns, address: 10.0.0.1}\n",
                4, 6, "checks.d", "missing required key 'name'"},
        BadCase{"dns_bad_type",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  d: {type: dns, address: 10.0.0.1, "
                "name: a.b, query-type: AXFR}\n",
                4, 60, "checks.d.query-type", "expected A, AAAA"},
        BadCase{"dns_watch",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  d: {type: dns, address: 10.0.0.1, "
                "name: a.b, watch: true}\n",
                4, 55, "checks.d.watch", "dns checks have no connection"},
        BadCase{"haproxy_without_socket",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  h: {type: haproxy, backend: web, "
                "server: s1}\n",
                4, 6, "checks.h", "needs 'socket'"},
        BadCase{"haproxy_relative_socket",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  h: {type: haproxy, backend: web, "
                "server: s1, socket: admin.sock}\n",
                4, 56, "checks.h.socket", "absolute path"},
        BadCase{"leastconn_with_nat",
                "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - {name: w, address: 10.0.0.9, "
                "port: 80, forwarding: nat, balance: leastconn, backends: [{address: 10.0.0.1, "
                "port: 80}]}\n",
                4, 70, "services[0].balance", "leastconn needs connection counts"},
        BadCase{"nat_backend_of_two_vips",
                "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - {name: w, address: 10.0.0.9, "
                "port: 80, forwarding: nat, backends: [{address: 10.0.0.1, port: 80}]}\n"
                "  - {name: v, address: 10.0.0.8, port: 80, forwarding: nat, backends: "
                "[{address: 10.0.0.2, port: 80}, {address: 10.0.0.1, port: 80}]}\n",
                5, 103, "services[1].backends[1]", "already a backend of nat service w"},
        BadCase{"nat_state_relative",
                "router-id: 1.2.3.4\nlocal-as: 1\nproxy: {nat-state: anycastd}\n", 3, 20,
                "proxy.nat-state", "expected an absolute path"},
        BadCase{"send_on_tcp",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  t: {type: tcp, address: 10.0.0.1, "
                "port: 80, send: x}\n",
                4, 53, "checks.t.send", "only agent checks take 'send'"},
        BadCase{"agent_without_port",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  a: {type: agent, address: 10.0.0.1}\n",
                4, 6, "checks.a", "missing required key 'port'"},
        BadCase{"answer_on_http",
                "router-id: 1.2.3.4\nlocal-as: 1\nchecks:\n  w: {type: http, address: 10.0.0.1, "
                "port: 80, answer: x}\n",
                4, 56, "checks.w.answer", "only dns checks"},
        BadCase{
            "service_unknown_check",
            "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: web\n    address: 9.9.9.9\n"
            "    port: 80\n    backends:\n      - {address: 10.0.0.1, port: 80, checks: [nope]}\n",
            8, 48, "services[0].backends[0].checks[0]", "no check named 'nope'"},
        BadCase{
            "service_bad_balance",
            "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: web\n    address: 9.9.9.9\n"
            "    port: 80\n    balance: random\n    backends: [{address: 10.0.0.1, port: 80}]\n",
            7, 14, "services[0].balance", "expected roundrobin, leastconn, maglev"},
        BadCase{"service_no_backends",
                "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: web\n    address: 9.9.9.9\n"
                "    port: 80\n    backends: []\n",
                7, 15, "services[0].backends", "at least one backend"},
        BadCase{
            "service_same_listener",
            "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n"
            "  - {name: a, address: 9.9.9.9, port: 80, backends: [{address: 10.0.0.1, port: 80}]}\n"
            "  - {name: b, address: 9.9.9.9, port: 80, backends: [{address: 10.0.0.2, port: "
            "80}]}\n",
            5, 39, "services[1].port", "already service a's"},
        BadCase{"udp_proxy_protocol",
                "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: dns\n    address: 9.9.9.9\n"
                "    port: 53\n    protocol: udp\n    proxy-protocol: true\n"
                "    backends: [{address: 10.0.0.1, port: 53}]\n",
                8, 21, "services[0].proxy-protocol", "only for protocol tcp"},
        BadCase{
            "nat_v6",
            "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: dns\n    address: 2001:db8::1\n"
            "    port: 53\n    protocol: udp\n    forwarding: nat\n"
            "    backends: [{address: 2001:db8::2, port: 53}]\n",
            8, 17, "services[0].forwarding", "IPv4 only"},
        BadCase{"nat_v6_backend",
                "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: dns\n    address: 9.9.9.9\n"
                "    port: 53\n    protocol: udp\n    forwarding: nat\n"
                "    backends: [{address: 10.0.0.1, port: 53}, {address: 2001:db8::2, port: 53}]\n",
                9, 47, "services[0].backends[1]", "IPv4 only"},
        BadCase{"udp_kernel",
                "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: dns\n    address: 9.9.9.9\n"
                "    port: 53\n    protocol: udp\n    forwarding: kernel\n"
                "    backends: [{address: 10.0.0.1, port: 53}]\n",
                8, 17, "services[0].forwarding", "'nat' forwards it in the kernel"},
        BadCase{"nat_for_every_service",
                "router-id: 1.2.3.4\nlocal-as: 1\nproxy: {forwarding: nat}\n", 3, 21,
                "proxy.forwarding", "nat is chosen per service"},
        BadCase{"nat_proxy_protocol",
                "router-id: 1.2.3.4\nlocal-as: 1\nservices:\n  - name: web\n    address: 9.9.9.9\n"
                "    port: 80\n    forwarding: nat\n    proxy-protocol: true\n"
                "    backends: [{address: 10.0.0.1, port: 80}]\n",
                8, 21, "services[0].proxy-protocol", "sends no PROXY header"},
        BadCase{"control_mode_for_others",
                "router-id: 1.2.3.4\nlocal-as: 1\ncontrol: {socket: /run/a.sock, mode: \"0666\"}\n",
                3, 38, "control.mode", "no access for others"},
        BadCase{"control_relative_socket",
                "router-id: 1.2.3.4\nlocal-as: 1\ncontrol: {socket: a.sock}\n", 3, 19,
                "control.socket", "absolute path"},
        // An unclosed bracket is reported where it opens, not at the next line's token.
        BadCase{"yaml_unclosed_list", "router-id: [1.2.3.4\nlocal-as: 1\n", 1, 12, "",
                "'[' is never closed: expected ']'"},
        BadCase{"yaml_unclosed_map",
                "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - {address: 1.2.3.5, remote-as: 2\n"
                "  - {address: 1.2.3.6, remote-as: 3}\n",
                4, 5, "", "'{' is never closed: expected '}'"},
        // A '[' inside a plain scalar opens nothing; the real fault is the indentation.
        BadCase{"yaml_indentation",
                "router-id: 1.2.3.4 # a [note\nlocal-as: 1\npeers:\n  - address: 1.2.3.5\n"
                "    remote-as: 2\n   port: 1\n",
                6, 4, "", "indentation matches neither the keys nor the list above it"}),
    [](const auto& info) { return std::string(info.param.name); });

// Address translation changes what the backends see (the clients' own addresses), so only a
// service that says `forwarding: nat` itself gets it, never the proxy-wide default; a udp
// service takes `kernel` or `auto` from there as the threads' path.
TEST(Config, AddressTranslationOnlyWhereTheServiceAsks) {
  auto c = load_string(
      "router-id: 1.2.3.4\nlocal-as: 1\nproxy: {forwarding: kernel}\nservices:\n"
      "  - {name: a, address: 9.9.9.9, port: 53, protocol: udp, backends: [{address: 10.0.0.1, "
      "port: 53}]}\n"
      "  - {name: b, address: 9.9.9.9, port: 54, protocol: udp, forwarding: auto, backends: "
      "[{address: 10.0.0.1, port: 53}]}\n"
      "  - {name: c, address: 9.9.9.9, port: 55, protocol: udp, forwarding: nat, backends: "
      "[{address: 10.0.0.1, port: 53}]}\n"
      "  - {name: d, address: 9.9.9.9, port: 80, backends: [{address: 10.0.0.1, port: 80}]}\n"
      "  - {name: e, address: 9.9.9.9, port: 81, forwarding: nat, backends: [{address: "
      "10.0.0.1, port: 80}]}\n",
      "x");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const auto& s = c->proxy.services;
  EXPECT_EQ(s[0].forwarding, proxy::Forwarding::user);
  EXPECT_EQ(s[1].forwarding, proxy::Forwarding::user);
  EXPECT_EQ(s[2].forwarding, proxy::Forwarding::nat);
  EXPECT_EQ(s[3].forwarding, proxy::Forwarding::kernel);  // tcp takes the default
  EXPECT_EQ(s[4].forwarding, proxy::Forwarding::nat);
}

// Address translation's tables outlive a restart in a directory of each anycastd's own (one
// per control socket) unless told otherwise; an established connection through it lives as
// long as IPVS's would.
TEST(Config, AddressTranslationStateAndTimeoutDefaults) {
  const std::string svc =
      "services:\n  - {name: e, address: 9.9.9.9, port: 81, forwarding: nat, backends: "
      "[{address: 10.0.0.1, port: 80}]}\n"
      "  - {name: d, address: 9.9.9.9, port: 53, protocol: udp, forwarding: nat, backends: "
      "[{address: 10.0.0.1, port: 53}]}\n";
  auto c = load_string("router-id: 1.2.3.4\nlocal-as: 1\n" + svc, "x");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->proxy.nat_state, "/sys/fs/bpf/anycastd/run-anycastd-anycastd.sock");
  EXPECT_EQ(c->proxy.services[0].idle_timeout, std::chrono::seconds(900));
  EXPECT_EQ(c->proxy.services[1].idle_timeout, std::chrono::seconds(30));
  auto other =
      load_string("router-id: 1.2.3.4\nlocal-as: 1\ncontrol: {socket: /tmp/a/b.sock}\n" + svc, "x");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->proxy.nat_state, "/sys/fs/bpf/anycastd/tmp-a-b.sock");
  auto none = load_string("router-id: 1.2.3.4\nlocal-as: 1\nproxy: {nat-state: none}\n", "x");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->proxy.nat_state, "");
  auto set = load_string("router-id: 1.2.3.4\nlocal-as: 1\nproxy: {nat-state: /x/y}\n", "x");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->proxy.nat_state, "/x/y");
}

TEST(Config, MissingFileNamesTheFile) {
  auto r = load_file("/nonexistent/anycastd.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(), "/nonexistent/anycastd.yaml: cannot open file");
}

// BIRD's `error wait time` and `error forget time`: the back-off after session errors.
TEST(Config, ErrorWaitTimeDefaultsFormsAndPrintedForm) {
  auto d = load_string(
      "router-id: 1.2.3.4\nlocal-as: 1\npeers: [{address: 10.0.0.1, remote-as: 2}]\n", "x");
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->bgp.peers[0].error_wait_min, std::chrono::seconds(1));
  EXPECT_EQ(d->bgp.peers[0].error_wait_max, std::chrono::seconds(120));
  EXPECT_EQ(d->bgp.peers[0].error_forget, std::chrono::seconds(60));
  auto c = load_string(
      "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n"
      "  - {address: 10.0.0.1, remote-as: 2, error-wait-time: {min: 0.5, max: 4}, "
      "error-forget-time: 30}\n  - {address: 10.0.0.2, remote-as: 2, error-wait-time: 2}\n",
      "x");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->bgp.peers[0].error_wait_min, std::chrono::milliseconds(500));
  EXPECT_EQ(c->bgp.peers[0].error_wait_max, std::chrono::seconds(4));
  EXPECT_EQ(c->bgp.peers[0].error_forget, std::chrono::seconds(30));
  EXPECT_EQ(c->bgp.peers[1].error_wait_min, std::chrono::seconds(2));
  EXPECT_EQ(c->bgp.peers[1].error_wait_max, std::chrono::seconds(2));
  auto again = load_string(print(*c), "printed.yaml");
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << print(*c);
  EXPECT_EQ(again->bgp.peers, c->bgp.peers);
  auto bad = load_string(
      "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n"
      "  - {address: 10.0.0.1, remote-as: 2, error-wait-time: {min: 5, max: 2}}\n",
      "nva.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 4);
  EXPECT_NE(bad.error().to_string().find("peers[0].error-wait-time.max"), std::string::npos)
      << bad.error().to_string();
}

namespace {

std::string with_peer(const std::string& extra) {
  return "router-id: 198.18.0.1\nlocal-as: 65010\npeers:\n  - address: 198.18.0.2\n"
         "    remote-as: 65020\n" +
         extra;
}

std::string temp_file(const std::string& name, const std::string& text, mode_t mode) {
  std::string path = ::testing::TempDir() + name;
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace

TEST(ConfigPassword, InlineIsLoadedAndNeverPrinted) {
  auto c = load_string(with_peer("    password: \"Tr0ub4dor&3\"\n"), "nva.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->bgp.peers[0].password, "Tr0ub4dor&3");
  auto printed = print(*c);
  EXPECT_EQ(printed.find("Tr0ub4dor"), std::string::npos) << printed;
  EXPECT_NE(printed.find("password: set"), std::string::npos) << printed;
}

TEST(ConfigPassword, FromAFileItsFirstLineAndAWarningWhenOthersCanReadIt) {
  auto secret = temp_file("md5-private", "first-line\r\nsecond\n", 0600);
  auto c = load_string(with_peer("    password-file: " + secret + "\n"), "nva.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->bgp.peers[0].password, "first-line");
  EXPECT_TRUE(c->warnings.empty());
  auto printed = print(*c);
  EXPECT_EQ(printed.find("first-line"), std::string::npos);
  EXPECT_NE(printed.find("password-file: " + secret), std::string::npos);

  auto open = temp_file("md5-open", "k\n", 0644);
  c = load_string(with_peer("    password-file: " + open + "\n"), "nva.yaml");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_NE(c->warnings[0].find("nva.yaml:6:20: peers[0].password-file: " + open +
                                " is readable by every user"),
            std::string::npos)
      << c->warnings[0];
}

TEST(ConfigPassword, RelativeFilesAreBesideTheConfiguration) {
  temp_file("md5-beside", "k\n", 0600);
  auto c =
      load_string(with_peer("    password-file: md5-beside\n"), ::testing::TempDir() + "nva.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->bgp.peers[0].password, "k");
}

TEST(ConfigPassword, BadPasswordsAreRefusedWhereTheyAreWritten) {
  auto e = error_of(with_peer("    password: a\n    password-file: /x\n"));
  EXPECT_EQ(e.field, "peers[0].password-file");
  EXPECT_EQ(e.line, 7);
  e = error_of(with_peer("    password: \"\"\n"));
  EXPECT_EQ(e.message, "the password is empty");
  e = error_of(with_peer("    password: " + std::string(81, 'x') + "\n"));
  EXPECT_NE(e.message.find("longer than 80 bytes"), std::string::npos);
  e = error_of(with_peer("    password-file: /dev/zero\n"));
  EXPECT_NE(e.message.find("/dev/zero is not a regular file"), std::string::npos) << e.message;
  auto overlong = temp_file("md5-overlong", std::string(5000, 'k') + "\n", 0600);
  e = error_of(with_peer("    password-file: " + overlong + "\n"));
  EXPECT_NE(e.message.find("longer than 80 bytes"), std::string::npos) << e.message;
  e = error_of(with_peer("    password-file: /nonexistent/md5\n"));
  EXPECT_EQ(e.line, 6);
  EXPECT_NE(e.message.find("cannot open /nonexistent/md5"), std::string::npos) << e.message;
}

TEST(ConfigTtl, TtlSecurityAndMultihopLoadPrintAndExcludeEachOther) {
  auto c = load_string(with_peer("    ttl-security: true\n"), "nva.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->bgp.peers[0].ttl_security);
  EXPECT_NE(print(*c).find("ttl-security: true"), std::string::npos);
  c = load_string(with_peer("    multihop: 3\n"), "nva.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->bgp.peers[0].multihop, 3);
  auto again = load_string(print(*c), "printed");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bgp.peers[0].multihop, 3);
  auto e = error_of(with_peer("    ttl-security: true\n    multihop: 2\n"));
  EXPECT_EQ(e.field, "peers[0].multihop");
  EXPECT_EQ(e.line, 7);
  e = error_of(with_peer("    multihop: 0\n"));
  EXPECT_EQ(e.field, "peers[0].multihop");
}

// The socket settings each peer's configuration turns into.
TEST(ConfigTtl, SessionOptionsFollowTheConfiguration) {
  bgp::PeerConfig p;
  EXPECT_EQ(bgp::Session::tcp_options(p), TcpOptions{});
  p.multihop = 5;
  EXPECT_EQ(bgp::Session::tcp_options(p).ttl, 5);
  EXPECT_EQ(bgp::Session::tcp_options(p).min_ttl, 0);
  p.multihop = 0;
  p.ttl_security = true;
  p.password = "k";
  auto o = bgp::Session::tcp_options(p);
  EXPECT_EQ(o.ttl, 255);
  EXPECT_EQ(o.min_ttl, 254);
  EXPECT_EQ(o.md5_key, "k");
}

TEST(ConfigBfd, TrueTakesTheDefaultsAMapSetsEachAndPrintReadsBack) {
  auto c = load_string(with_peer("    bfd: true\n"), "nva.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_TRUE(c->bgp.peers[0].bfd);
  EXPECT_EQ(*c->bgp.peers[0].bfd, bfd::Params{});
  c = load_string(with_peer("    bfd: false\n"), "nva.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->bgp.peers[0].bfd);
  c = load_string(with_peer("    bfd: {min-rx: 100, min-tx: 200, multiplier: 5}\n"), "nva.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  bfd::Params want{.min_tx = std::chrono::milliseconds(200),
                   .min_rx = std::chrono::milliseconds(100),
                   .multiplier = 5};
  EXPECT_EQ(*c->bgp.peers[0].bfd, want);
  auto again = load_string(print(*c), "printed");
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(*again->bgp.peers[0].bfd, want);
  auto e = error_of(with_peer("    bfd: {min-rx: 5}\n"));
  EXPECT_EQ(e.field, "peers[0].bfd.min-rx");
  EXPECT_EQ(e.line, 6);
  e = error_of(with_peer("    bfd: {interval: 300}\n"));
  EXPECT_EQ(e.field, "peers[0].bfd.interval");
  e = error_of(with_peer("    bfd: {multiplier: 0}\n"));
  EXPECT_EQ(e.field, "peers[0].bfd.multiplier");
}

// When one printed configuration is a prefix of the other, the line named is the first one
// only one of them has, not the last line both share (which the reload answer named before).
TEST(ReloadBlocker, NamesTheFirstChangedLineWhenOneTextIsAPrefixOfTheOther) {
  EXPECT_EQ(first_changed_line("a\nb\n", "a\nb\nc\n"), "'c' (new)");
  EXPECT_EQ(first_changed_line("a\nb\nc\n", "a\nb\n"), "'c' (removed)");
  EXPECT_EQ(first_changed_line("a\nb\n", "a\nx\n"), "'x' (was 'b')");
  EXPECT_EQ(first_changed_line("a\n", "a\n"), "nothing");
}

// Duplicates are found by a set: a file of 20,000 VIPs whose last one repeats the first is
// refused at the repeat's line.
TEST(ConfigLoad, DuplicateVipAmongThousandsIsFoundAtItsLine) {
  std::string text =
      "router-id: 10.0.0.9\nlocal-as: 65010\npeers:\n  - {address: 10.0.0.1, remote-as: 65515}\n"
      "vips:\n";
  for (int i = 0; i < 20000; ++i)
    text += "  - prefix: 10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "/32\n";
  text += "  - prefix: 10.1.0.0/32\n";
  auto c = load_string(text, "nva.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().line, 20006) << c.error().to_string();
  EXPECT_NE(c.error().message.find("duplicate VIP 10.1.0.0/32"), std::string::npos);
}
