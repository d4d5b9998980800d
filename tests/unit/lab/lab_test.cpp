// The lab against the seeds' own facts, at the level of the library: tables as the seeds
// print them, the events and timings of each fault, and the topology errors a user meets.
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <set>
#include <sstream>

#include "lab/format.hpp"
#include "lab/sim_lab.hpp"
#include "lab/topology.hpp"
#include "lab_examples.hpp"

using namespace anycastd;
using namespace anycastd::lab;
using namespace anycastd::lab::testing;
using namespace std::chrono_literals;

namespace {

RunResult run(const Topology& t, const std::string& scenario) {
  const Scenario* s = t.scenario(scenario);
  EXPECT_NE(s, nullptr);
  return run_scenario(t, *s);
}

const Event* find_event(const RunResult& r, const std::string& kind, const std::string& text,
                        Duration after = {}) {
  for (const auto& e : r.events)
    if (e.kind == kind && e.at >= after && e.text.find(text) != std::string::npos) return &e;
  return nullptr;
}

double sec(Duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string error_of(const std::string& yaml) {
  auto t = load_topology_string(yaml, "t.yaml");
  return t ? "" : t.error().to_string();
}

const char* kTwoHubs = R"(
circuits: [{name: c}]
regions:
  - name: r1
    hub: {name: hub11, type: vwan, spokes: [{name: dns-11, prefix: 10.13.76.0/24}]}
  - name: r2
    hub: {name: hub21, type: vwan, spokes: [{name: dns-01, prefix: 10.13.76.0/24}]}
)";

}  // namespace

// Seed 004's baseline: the four 9.9.9.9/32 rows of its MSEE table, North Europe chosen.
TEST(LabSeed004, BaselineMseeTableHasTheSeedsFourRoutes) {
  auto t = load("seed-004.yaml");
  SimLab lab(t);
  ASSERT_TRUE(lab.start());
  lab.loop().run_for(std::chrono::seconds(5));
  auto table = lab.table("msee-london");
  ASSERT_TRUE(table);
  // The 2021 CLI's columns and order, as the seed printed them: Network, NextHop, a blank
  // LocPrf, Weight, Path; the rows by next hop.
  std::string text = table->text();
  std::vector<std::string> rows;
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    if (text.compare(at, 6, "9.9.9.") == 0) rows.push_back(text.substr(at, nl - at));
  std::vector<std::string> want{
      "9.9.9.9/32       172.16.138.12             0         65515 65010 65010 65010",
      "9.9.9.9/32       172.16.138.13             0         65515 65010 65010 65010",
      "9.9.9.9/32       172.16.158.12*            0         65515 65010",
      "9.9.9.9/32       172.16.158.13             0         65515 65010"};
  EXPECT_EQ(rows, want) << text;
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "Network          NextHop         LocPrf    Weight    Path");
  EXPECT_EQ(lab.msee_chosen_region("london", *Prefix::parse("9.9.9.9/32")), "north-europe");
  Outcome o;
  lab.request(t.clients[0], 1, [&](Outcome x) { o = std::move(x); });
  lab.loop().run_for(std::chrono::seconds(1));  // the request takes its round trips
  ASSERT_TRUE(o.ok) << o.why;
  EXPECT_EQ(o.answer, "I'm running this website in North Europe");
  EXPECT_EQ(o.hops,
            (std::vector<std::string>{"onprem", "msee-london", "hub-ne-gw0", "nva-ne", "web-ne"}));
}

// Stopping BGP closes the sessions with a Cease: the MSEE moves within milliseconds and no
// request is lost ("No pings lost, almost instant failover").
TEST(LabSeed004, BgpStopFailsOverInMillisecondsWithoutLoss) {
  auto t = load("seed-004.yaml");
  auto r = run(t, "primary-failure");
  EXPECT_TRUE(r.ok()) << text_report(r);
  auto* moved = find_event(r, "msee-best", "(west-europe)", std::chrono::seconds(10));
  ASSERT_NE(moved, nullptr);
  EXPECT_LT(sec(moved->at) - 10.0, 0.05);
  ASSERT_EQ(r.faults.size(), 2u);
  EXPECT_EQ(r.faults[0].before, "north-europe");
  EXPECT_EQ(r.faults[0].after, "west-europe");
  EXPECT_EQ(r.faults[0].lost, 0u);
  EXPECT_EQ(r.faults[1].after, "north-europe");
  EXPECT_EQ(r.faults[1].lost, 0u);
}

// Without BFD, a crashed NVA keeps its routes at the route server until the 180 s hold
// timer expires, and everything sent to North Europe meanwhile is lost.
TEST(LabSeed004, CrashedNvaBlackHolesUntilHoldTimerExpires) {
  auto t = load("seed-004.yaml");
  auto r = run(t, "nva-crash");
  EXPECT_TRUE(r.ok()) << text_report(r);
  auto* down = find_event(r, "session", "nva-ne down: hold timer expired");
  ASSERT_NE(down, nullptr);
  // Keepalives every 60 s: the last one before the crash was at most 60 s before it.
  EXPECT_GE(sec(down->at), 10.0 + 180 - 60);
  EXPECT_LE(sec(down->at), 10.0 + 180 + 1);
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_GT(r.faults[0].lost, 2000u);  // 20 requests a second for about three minutes
  ASSERT_TRUE(r.faults[0].switched);
  EXPECT_NEAR(sec(*r.faults[0].switched), sec(down->at) - 10.0, 0.1);
}

// A failed application: the HTTP check sees 503, the VIP is withdrawn, a few requests are
// answered with errors before the MSEE moves.
TEST(LabSeed004, ApplicationFailureWithdrawsAfterTheCheck) {
  auto t = load("seed-004.yaml");
  auto r = run(t, "application-failure");
  EXPECT_TRUE(r.ok()) << text_report(r);
  auto* check = find_event(r, "check", "nva-ne: check web down");
  auto* withdraw = find_event(r, "announce", "nva-ne: VIP 9.9.9.9/32 withdrawn");
  ASSERT_NE(check, nullptr);
  ASSERT_NE(withdraw, nullptr);
  EXPECT_GE(withdraw->at, check->at);
  EXPECT_GE(r.faults[0].lost, 1u);
  EXPECT_LE(r.faults[0].lost, 60u);
}

// A frozen NVA: BFD on the NVA-to-NVA overlay notices within its detection time (900 ms);
// the route servers, which do not speak BFD, only when their hold time runs out, and the
// frozen region black-holes the VIP until then.
TEST(LabFreeze, BfdFindsTheFrozenNvaInItsDetectionTimeTheRouteServersInTheHoldTime) {
  auto t = load("freeze.yaml");
  auto r = run(t, "freeze-primary");
  EXPECT_TRUE(r.ok()) << text_report(r);
  auto* bfd = find_event(r, "session", "nva-2: session with nva-1 down: BFD down", 10s);
  ASSERT_NE(bfd, nullptr);
  EXPECT_GT(sec(bfd->at), 10.0 + 0.6);  // two intervals less jitter at the least
  EXPECT_LE(sec(bfd->at), 10.0 + 0.9 + 0.01);
  auto* hold = find_event(r, "session", "hub-1-rs0: session with nva-1 down: hold timer", 10s);
  ASSERT_NE(hold, nullptr);
  EXPECT_GE(sec(hold->at), 10.0 + 9 - 3);  // keepalives every 3 s
  EXPECT_LE(sec(hold->at), 10.0 + 9 + 0.01);
  EXPECT_NE(find_event(r, "lost", "black hole: nva-1 is frozen", 10s), nullptr);
  ASSERT_EQ(r.faults.size(), 2u);
  ASSERT_TRUE(r.faults[0].switched);
  EXPECT_NEAR(sec(*r.faults[0].switched), sec(hold->at) - 10.0, 0.1);
  EXPECT_GT(r.faults[0].lost, 250u);  // 50 requests a second for 6 to 9 s
  // Thawed, the NVA's sessions come back and region 1 serves again.
  EXPECT_NE(find_event(r, "session", "nva-2: session with nva-1 established", 20s), nullptr);
  EXPECT_EQ(r.faults[1].after, "region-1");
}

// `freeze: {nva, for}` thaws by itself, as a VM resumed after a snapshot.
TEST(LabFreeze, TimedFreezeThawsByItself) {
  auto t = load("freeze.yaml");
  auto& steps = t.scenarios[0].steps;
  Action& freeze = steps[1].actions.at(0);
  ASSERT_EQ(freeze.kind, Action::Kind::freeze);
  freeze.duration = 2s;
  steps[3].actions.clear();  // no thaw
  steps[2].expect.reset();
  steps[3].expect.reset();
  auto r = run(t, "freeze-primary");
  auto* thaw = find_event(r, "action", "thaw nva-1", 10s);
  ASSERT_NE(thaw, nullptr);
  EXPECT_NEAR(sec(thaw->at), 12.0, 0.001);
  // Back before the route servers' hold time ran out: their sessions never dropped.
  EXPECT_EQ(find_event(r, "session", "hub-1-rs0: session with nva-1 down", 10s), nullptr);
  EXPECT_EQ(r.faults.back().after, "region-1");
}

// The same seed gives the same run, event for event.
TEST(LabSim, Deterministic) {
  auto t = load("seed-004.yaml");
  auto a = run(t, "application-failure");
  auto b = run(t, "application-failure");
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].at, b.events[i].at);
    EXPECT_EQ(a.events[i].text, b.events[i].text);
  }
  EXPECT_EQ(a.requests.size(), b.requests.size());
}

// An expectation the network does not meet fails the run and says what was found.
TEST(LabSim, WrongExpectationFails) {
  auto t = load("seed-004.yaml");
  Scenario s;
  s.name = "wrong";
  Step st;
  st.at = std::chrono::seconds(5);
  st.expect.emplace();
  st.expect->msee.push_back({"london", *Prefix::parse("9.9.9.9/32"), std::nullopt, "west-europe"});
  s.steps.push_back(st);
  s.end = std::chrono::seconds(6);
  auto r = run_scenario(t, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.failures[0].find("chosen region west-europe, found north-europe"), std::string::npos)
      << r.failures[0];
}

// Seed 000: equal announcements spread flows over both regions through on-prem ECMP.
TEST(LabSeed000, EcmpSplitsFlowsThenPrependPicksOneRegion) {
  auto t = load("seed-000.yaml");
  auto r = run(t, "ecmp-prepend-health");
  EXPECT_TRUE(r.ok()) << text_report(r);
  size_t one = 0, two = 0;
  for (const auto& q : r.requests)
    if (q.at > std::chrono::seconds(2) && q.at <= std::chrono::seconds(10))
      (q.region == "region-1" ? one : two) += q.ok;
  ASSERT_GT(one + two, 300u);
  EXPECT_NEAR(static_cast<double>(one) / static_cast<double>(one + two), 0.5, 0.15);
}

// Issue 18: in an ECMP table every route of the multipath set is marked chosen.
TEST(LabSeed000, EcmpTableMarksEveryRouteOfTheMultipathSet) {
  auto t = load("seed-000.yaml");
  auto r = run(t, "ecmp-prepend-health");
  const DeviceTable* table = nullptr;
  for (const auto& s : r.steps)
    if (s.at == 10s)
      for (const auto& t : s.tables)
        if (t.device == "onprem") table = &t;
  ASSERT_NE(table, nullptr);
  std::vector<std::string> chosen;
  for (const auto& row : table->rows)
    if (row.prefix == *Prefix::parse("10.255.0.1/32") && row.ecmp) chosen.push_back(row.next_hop);
  EXPECT_EQ(chosen, (std::vector<std::string>{"192.0.2.1", "192.0.2.5"}));
  // FRR's marks: `*>` the best, `*=` its equal partner.
  std::string text = table->text();
  EXPECT_NE(text.find("*> 10.255.0.1/32    192.0.2.1"), std::string::npos) << text;
  EXPECT_NE(text.find("*=                  192.0.2.5"), std::string::npos) << text;
}

// The lost request of issue 16: at fail-back every flow moves from region 2 to region 1,
// and a request whose handshake reached nva-2 before the on-prem router switched sends
// its data to nva-1, which resets it. The netns lab lost it by chance (ECONNRESET); the
// simulator must lose it too, and name why. A request that starts after the move is served.
TEST(LabSeed000, FailBackResetsTheConnectionInFlightAndOnlyThatOne) {
  auto t = load("seed-000.yaml");
  auto r = run(t, "ecmp-prepend-health");
  EXPECT_TRUE(r.ok()) << text_report(r);
  std::vector<const RequestRecord*> lost;
  for (const auto& q : r.requests)
    if (q.at > std::chrono::seconds(30) && !q.ok) lost.push_back(&q);
  ASSERT_EQ(lost.size(), 1u) << text_report(r);
  EXPECT_NE(lost[0]->why.find("connection reset by nva-1: the route moved from nva-2"),
            std::string::npos)
      << lost[0]->why;
  bool served_after = false;
  for (const auto& q : r.requests)
    served_after |= q.at > lost[0]->at && q.ok && q.region == "region-1";
  EXPECT_TRUE(served_after);
}

// Seed 001: route age is ignored -- after the first hub's routes come back (now the
// newest), the lowest next hop wins again.
TEST(LabSeed001, LowestNextHopWinsOverRouteAge) {
  auto t = load("seed-001.yaml");
  auto r = run(t, "remove-peerings");
  EXPECT_TRUE(r.ok()) << text_report(r);
  auto* back =
      find_event(r, "msee-best", "via 192.168.128.12 (hub1-region)", std::chrono::seconds(20));
  ASSERT_NE(back, nullptr);
  auto* answer = find_event(r, "served", "(1.1.1.1)", std::chrono::seconds(20));
  ASSERT_NE(answer, nullptr);
}

TEST(LabSeed001, VirtualWanRouteMapPrepends11111) {
  auto t = load("seed-001-vwan.yaml");
  auto r = run(t, "route-map");
  EXPECT_TRUE(r.ok()) << text_report(r);
}

TEST(LabSeed003, RouteServerInstallsOnlyAfterAsPathRewrite) {
  auto t = load("seed-003.yaml");
  auto r = run(t, "as-path-rewrite");
  EXPECT_TRUE(r.ok()) << text_report(r);
}

// The route server's per-NVA route limit tears the session down, and the timeline says
// which limit it was.
TEST(LabSim, RouteServerRouteLimitTearsTheSessionDown) {
  auto t = load_topology_string(R"(
circuits: [{name: c}]
regions:
  - name: r
    hub: {name: h, route-server: {max-routes: 2}}
    nvas:
      - name: n
        address: 10.0.0.4
        config:
          router-id: 10.0.0.4
          local-as: 65010
          vips: [{prefix: 9.9.9.1/32}, {prefix: 9.9.9.2/32}, {prefix: 9.9.9.3/32}]
scenarios: [{name: s, end: 5, steps: [{at: 4, show: false}]}]
)",
                                "t.yaml");
  ASSERT_TRUE(t) << t.error().to_string();
  auto r = run_scenario(*t, t->scenarios[0]);
  auto* down = find_event(r, "session", "session with n down");
  ASSERT_NE(down, nullptr) << text_report(r);
  EXPECT_NE(down->text.find("at most 2 routes from an NVA: max-routes"), std::string::npos)
      << down->text;
}

// Virtual WAN's pre-flight check, in the portal's words.
TEST(LabTopology, VirtualWanRefusesOverlappingDirectSpokes) {
  EXPECT_EQ(error_of(kTwoHubs),
            "t.yaml:7:45: regions[1].hub.spokes[0]: Virtual network connection 'dns-01' "
            "from hub 'hub21' to virtual network 'dns-01' is not allowed. It overlaps with "
            "address space: 10.13.76.0/24");
  std::string indirect = kTwoHubs;
  indirect.replace(indirect.rfind("prefix: 10.13.76.0/24"), 21,
                   "prefix: 10.13.76.0/24, indirect: true, via: 10.200.1.4");
  EXPECT_EQ(error_of(indirect), "");
}

TEST(LabTopology, RouteServerLimitsAreEnforced) {
  std::string nvas;
  for (int i = 0; i < 9; ++i)
    nvas += "      - {name: n" + std::to_string(i) + ", address: 10.0.0." + std::to_string(i + 1) +
            ", config: {router-id: 10.0.0.1, local-as: 65010}}\n";
  auto yaml = "regions:\n  - name: r\n    hub: {name: h}\n    nvas:\n" + nvas;
  EXPECT_NE(error_of(yaml).find("route server supports at most 8 BGP peers; 9 NVAs"),
            std::string::npos)
      << error_of(yaml);
  EXPECT_NE(error_of("regions:\n  - name: r\n    hub: {name: h}\n    nvas:\n"
                     "      - {name: n, address: 10.0.0.1, config: {router-id: 10.0.0.1, "
                     "local-as: 4200000001}}\n")
                .find("route server peers must use 16-bit ASNs; n has AS 4200000001"),
            std::string::npos);
}

// An error inside an NVA's inline configuration points into the topology file.
TEST(LabTopology, InlineNvaConfigErrorsKeepTheirPosition) {
  std::string yaml =
      "regions:\n"
      "  - name: r\n"
      "    hub: {name: h}\n"
      "    nvas:\n"
      "      - name: n\n"
      "        address: 10.0.0.1\n"
      "        config:\n"
      "          router-id: 10.0.0.1\n"
      "          local-as: banana\n";
  auto e = error_of(yaml);
  EXPECT_EQ(e.substr(0, 12), "t.yaml:9:21:") << e;
  EXPECT_NE(e.find("regions[0].nvas[0].config.local-as"), std::string::npos) << e;
}

// Found by a longer fuzz_topology run: an NVA's `config:` naming a file that is not there
// was reported as "<that name>:0:0: cannot open file", with no position in the topology.
TEST(LabTopology, AMissingNvaConfigFileIsReportedWhereTheTopologyNamesIt) {
  std::string yaml =
      "regions:\n"
      "  - name: r\n"
      "    hub: {name: h}\n"
      "    nvas:\n"
      "      - {name: n, address: 10.0.0.1, config: no-such-nva.yaml}\n";
  auto e = error_of(yaml);
  EXPECT_EQ(e.substr(0, 12), "t.yaml:5:46:") << e;
  EXPECT_NE(e.find("no-such-nva.yaml: cannot open file"), std::string::npos) << e;
  EXPECT_NE(e.find("regions[0].nvas[0].config"), std::string::npos) << e;
}

// Issue 18: at the line of the fault, saying what was expected.
TEST(LabTopology, YamlSyntaxErrorsPointAtTheFault) {
  auto e = error_of(
      "name: x\nregions:\n  - name: r1\n    hub: {name: h, prefixes: [10.0.0.0/16]\n"
      "  - name: r2\n");
  EXPECT_EQ(e.rfind("t.yaml:4:10: '{' is never closed: expected '}'", 0), 0u) << e;
}

// Issue 18: addresses are per hub VNet, as in Azure. Two devices on one address within one
// address space are refused naming both (an NVA address reused there loaded silently and
// gave wrong answers); two hub VNets may share a plan.
TEST(LabTopology, AnAddressUsedTwiceInOneAddressSpaceIsRefusedNamingBoth) {
  auto in_one_hub = error_of(R"(
circuits: [{name: c}]
regions:
  - name: r1
    hub: {name: h1, route-server: {instances: [10.1.1.4, 10.1.1.5]}, er-gateway: {instances: [10.1.1.12, 10.1.1.5]}}
)");
  EXPECT_EQ(in_one_hub.rfind("t.yaml:5:106: regions[0].hub.er-gateway.instances[1]: 10.1.1.5 is "
                             "already the address of regions[0].hub.route-server.instances[1] "
                             "(line 5): two devices in one hub need an address each",
                             0),
            0u)
      << in_one_hub;
  auto on_prem = error_of(R"(
circuits: [{name: c}]
regions:
  - name: r1
    hub: {name: h1, route-server: {instances: [10.1.1.4, 10.1.1.5]}}
routers: [{name: onprem, asn: 65100, address: 10.1.1.4}]
)");
  EXPECT_NE(on_prem.find("routers[0].address: 10.1.1.4 is already the address of "
                         "regions[0].hub.route-server.instances[0] (line 5): on-prem routers "
                         "and MSEEs share their address space with every hub"),
            std::string::npos)
      << on_prem;
  auto virtual_wan = error_of(R"(
circuits: [{name: c}]
regions:
  - name: r1
    hub: {name: h1, type: vwan, route-server: {instances: [10.1.1.4, 10.1.1.5]}}
  - name: r2
    hub: {name: h2, type: vwan, route-server: {instances: [10.2.1.4, 10.1.1.5]}}
)");
  EXPECT_NE(virtual_wan.find("regions[1].hub.route-server.instances[1]: 10.1.1.5 is already the "
                             "address of regions[0].hub.route-server.instances[1] (line 5): two "
                             "devices in one hub need an address each"),
            std::string::npos)
      << virtual_wan;
  // Two hub VNets with one plan load, the second on aliases shown as the file's addresses.
  auto t = load_topology_string(R"(
circuits: [{name: c}]
regions:
  - name: r1
    hub: {name: h1, route-server: {instances: [10.1.1.4, 10.1.1.5]}}
  - name: r2
    hub: {name: h2, route-server: {instances: [10.1.1.4, 10.1.1.5]}}
)",
                                "t.yaml");
  ASSERT_TRUE(t) << t.error().to_string();
  const auto& a = t->regions[0].hub.route_servers;
  const auto& b = t->regions[1].hub.route_servers;
  EXPECT_EQ(a[0].to_string(), "10.1.1.4");
  EXPECT_NE(b[0], a[0]);
  EXPECT_EQ(t->show(b[0]).to_string(), "10.1.1.4");
  EXPECT_EQ(t->show(b[1]).to_string(), "10.1.1.5");
}

// VNet peering refuses a hub and a spoke whose address spaces overlap.
TEST(LabTopology, ASpokeOverlappingItsHubIsRefused) {
  auto e = error_of(R"(
circuits: [{name: c}]
regions:
  - name: r1
    hub: {name: h1, prefixes: [10.1.0.0/16], spokes: [{name: app, prefix: 10.1.7.0/24}]}
)");
  EXPECT_NE(e.find("regions[0].hub.spokes[0].prefix: virtual networks 'h1' and 'app' cannot be "
                   "peered because their address spaces overlap: 10.1.0.0/16 and 10.1.7.0/24"),
            std::string::npos)
      << e;
}

// Two hubs with one address plan (examples/lab/same-address-plan.yaml): each NVA peers with
// and checks the devices of its own hub, and every table shows the file's addresses.
TEST(LabTopology, TwoHubsWithOneAddressPlanEachUseTheirOwnDevices) {
  auto t = load("same-address-plan.yaml");
  auto r = run(t, "application-failure");
  EXPECT_TRUE(r.ok()) << text_report(r);
  for (const auto& e : r.events) EXPECT_EQ(e.text.find("198.19.128."), std::string::npos) << e.text;
  EXPECT_EQ(text_report(r).find("198.19.128."), std::string::npos);
}

TEST(LabTopology, UnknownNamesAreNamed) {
  EXPECT_NE(error_of("routers: [{name: r, asn: 65100, circuits: [nope]}]")
                .find("routers[0].circuits[0]: no circuit named 'nope'"),
            std::string::npos);
  EXPECT_NE(error_of("scenarios: [{name: s, steps: [{at: 1, do: {stop-bgp: ghost}}]}]")
                .find("no NVA named 'ghost'"),
            std::string::npos);
  EXPECT_NE(error_of("scenarios: [{name: s, steps: [{at: 1, do: {freeze: {nva: ghost}}}]}]")
                .find("no NVA named 'ghost'"),
            std::string::npos);
  EXPECT_NE(error_of("scenarios: [{name: s, steps: [{at: 1, do: {reboot: x}}]}]")
                .find("unknown action 'reboot'"),
            std::string::npos);
}

// BGP stopped and the NVA crashed in one step: the speaker's shutdown completes on the
// loop's next turn, after the crash has freed the daemon it would call back. Under ASan
// this was a use after free until the callback was owned by the speaker (and died with it).
TEST(LabSim, StopBgpThenCrashInOneStepLeavesNoCallbackBehind) {
  std::ifstream in(std::string(ANYCASTD_SOURCE_DIR) + "/examples/lab/seed-004.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str() + R"(
  - name: stop-then-crash
    end: 40
    steps:
      - at: 10
        do: [{stop-bgp: nva-ne}, {crash: nva-ne}]
      - at: 20
        do: {restore: nva-ne}
      - at: 39
        expect: {served-by: {pc: north-europe}}
)";
  auto t = load_topology_string(yaml, "seed-004-plus.yaml");
  ASSERT_TRUE(t) << t.error().to_string();
  auto r = run(*t, "stop-then-crash");
  EXPECT_TRUE(r.ok()) << text_report(r);
}
