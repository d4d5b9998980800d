// Every device kind's table (issue 18): rows that `--json` carries and round-trip, text in
// the layout of the tool the seed used, and `expect: table` assertions that can fail.
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include "lab/format.hpp"
#include "lab/sim_lab.hpp"
#include "lab/table_build.hpp"
#include "lab/topology.hpp"
#include "lab_examples.hpp"

using namespace anycastd;
using namespace anycastd::lab;
using namespace anycastd::lab::testing;
using namespace std::chrono_literals;

namespace {

DeviceTable table_at(SimLab& lab, const std::string& device) {
  auto t = lab.table(device);
  EXPECT_TRUE(t) << device;
  return t ? *t : DeviceTable{};
}

}  // namespace

// Seed 004's route server output is the CLI's learned-routes JSON: per instance, the
// NVA's route with its origin and weight, under the instance's role name.
TEST(DeviceTable, RouteServerPrintsTheSeedsLearnedRoutesJson) {
  auto t = load("seed-004.yaml");
  SimLab lab(t);
  ASSERT_TRUE(lab.start());
  lab.loop().run_for(5s);
  auto rs = table_at(lab, "hub-we");
  EXPECT_EQ(rs.kind, "route-server");
  std::string text = rs.text();
  auto json_at = text.find('{');
  ASSERT_NE(json_at, std::string::npos) << text;
  EXPECT_EQ(
      text.substr(0, json_at),
      "$ az network routeserver peering list-learned-routes -n nva-we --routeserver hub-we\n");
  auto doc = nlohmann::json::parse(text.substr(json_at));
  nlohmann::json want = {{"asPath", "65010-65010-65010"},
                         {"localAddress", "172.16.139.4"},
                         {"network", "9.9.9.9/32"},
                         {"nextHop", "172.16.136.70"},
                         {"origin", "EBgp"},
                         {"sourcePeer", "172.16.136.70"},
                         {"weight", 32768}};
  EXPECT_EQ(doc["RouteServiceRole_IN_0"], nlohmann::json::array({want})) << text;
  want["localAddress"] = "172.16.139.5";
  EXPECT_EQ(doc["RouteServiceRole_IN_1"], nlohmann::json::array({want})) << text;
  EXPECT_TRUE(doc["value"].is_null());
}

// The ExpressRoute gateway lists what each instance learned: its own prefixes (Network),
// the NVA's VIP from the route servers (IBgp) and on-prem's routes from the MSEE (EBgp).
TEST(DeviceTable, GatewayListsLearnedRoutesPerInstanceWithTheirOrigin) {
  auto t = load("seed-001.yaml");
  SimLab lab(t);
  ASSERT_TRUE(lab.start());
  lab.loop().run_for(5s);
  std::string hub = t.regions.front().hub.name;
  auto gw = table_at(lab, hub + "-gw");
  EXPECT_EQ(gw.kind, "er-gateway");
  std::set<std::string> origins, instances;
  for (const auto& r : gw.rows) origins.insert(r.origin), instances.insert(r.local_address);
  EXPECT_TRUE(origins.count("Network")) << gw.text();
  EXPECT_TRUE(origins.count("EBgp")) << gw.text();
  EXPECT_EQ(instances.size(), 2u) << gw.text();
  EXPECT_EQ(gw.text().substr(0, gw.text().find('\n')),
            "AsPath        LocalAddress    Network            NextHop         Origin    "
            "SourcePeer      Weight");
}

// A Virtual WAN hub shows its effective routes: the spoke behind its connection, the other
// hub's copy of it through the ExpressRoute gateway with its AS path.
TEST(DeviceTable, VirtualWanHubShowsEffectiveRoutes) {
  auto t = load("seed-001-vwan.yaml");
  SimLab lab(t);
  ASSERT_TRUE(lab.start());
  lab.loop().run_for(5s);
  auto hub = table_at(lab, "hub11");
  EXPECT_EQ(hub.kind, "vwan-hub");
  std::string text = hub.text();
  auto doc = nlohmann::json::parse(text.substr(text.find('{')));
  bool spoke = false;
  for (const auto& r : doc["value"])
    if (r["addressPrefixes"] == nlohmann::json::array({"10.13.76.0/24"})) {
      spoke = true;
      EXPECT_EQ(r["nextHopType"], "Virtual Network Connection") << text;
      EXPECT_EQ(r["nextHops"], nlohmann::json::array({"dns-01"})) << text;
    }
  EXPECT_TRUE(spoke) << text;
  for (const auto& r : doc["value"])
    EXPECT_NE(r["addressPrefixes"], nlohmann::json::array({"192.168.128.0/23"}))
        << "the hub's own space is no route of its router: " << text;
}

// `--json` carries rows, and they read back into the same table.
TEST(DeviceTable, JsonRoundTripsForEveryDeviceOfEveryExample) {
  for (const char* file : {"seed-000.yaml", "seed-001.yaml", "seed-001-vwan.yaml", "seed-003.yaml",
                           "seed-004.yaml", "freeze.yaml"}) {
    auto t = load(file);
    SimLab lab(t);
    ASSERT_TRUE(lab.start()) << file;
    lab.loop().run_for(5s);
    size_t rows = 0;
    for (const auto& d : shown_devices(t, true)) {
      auto table = table_at(lab, d);
      rows += table.rows.size();
      auto j = to_json(table);
      EXPECT_EQ(j["text"], table.text());
      // Through text, as a program reading our output would get it.
      std::string error;
      auto back = table_from_json(nlohmann::json::parse(j.dump()), error);
      ASSERT_TRUE(back) << file << " " << d << ": " << error;
      EXPECT_EQ(*back, table) << file << " " << d;
    }
    EXPECT_GT(rows, 0u) << file;
  }
  std::string error;
  auto j = nlohmann::json{{"device", "x"}, {"kind", "router"},
                          {"title", "x"},  {"format", "frr"},
                          {"down", false}, {"rows", {{{"prefix", "10.0.0.0/33"}}}}};
  EXPECT_FALSE(table_from_json(j, error));
  EXPECT_NE(error.find("10.0.0.0/33"), std::string::npos) << error;
  j["format"] = "cisco";
  EXPECT_FALSE(table_from_json(j, error));
  EXPECT_EQ(error, "unknown format 'cisco'");
}

// `expect: table` names any device; a wrong route or a wrong choice fails and says what
// was there.
TEST(DeviceTable, ExpectTableAssertsAnyDevicesRoutesAndChoice) {
  auto t = load_topology(std::string(ANYCASTD_SOURCE_DIR) + "/examples/lab/seed-004.yaml");
  ASSERT_TRUE(t);
  Scenario s;
  s.name = "tables";
  s.end = 6s;
  Step st;
  st.at = 5s;
  Expect e;
  auto vip = *Prefix::parse("9.9.9.9/32");
  e.table["onprem"][vip] = {"198.19.0.1* 12076"};  // private ASNs removed by the MSEE
  e.table["hub-ne-gw"][vip] = {"172.16.156.70 65010"};
  e.table["hub-ne"][vip] = {"172.16.156.70* 65010"};
  e.table["msee-london"][vip] = {"172.16.158.12* 65515 65010", "172.16.158.13 65515 65010",
                                 "172.16.138.12 65515 65010 65010 65010",
                                 "172.16.138.13 65515 65010 65010 65010"};
  e.table["onprem"][*Prefix::parse("10.9.9.0/24")] = {};
  st.expect = e;
  s.steps.push_back(st);
  auto r = run_scenario(*t, s);
  EXPECT_TRUE(r.ok()) << text_report(r);
  EXPECT_EQ(r.steps.front().checked.size(), 5u) << text_report(r);

  s.steps.front().expect->table.clear();
  s.steps.front().expect->table["msee-london"][vip] = {"172.16.158.13* 65515 65010"};
  r = run_scenario(*t, s);
  ASSERT_EQ(r.failures.size(), 1u) << text_report(r);
  EXPECT_NE(r.failures[0].find("found [172.16.138.12 65515 65010 65010 65010, 172.16.138.13 "
                               "65515 65010 65010 65010, 172.16.158.12* 65515 65010, "
                               "172.16.158.13 65515 65010]"),
            std::string::npos)
      << r.failures[0];
}

// A device the file names must exist, and the error lists those that do.
TEST(DeviceTable, UnknownDeviceInShowOrExpectIsRefusedWithTheChoices) {
  std::string base = R"(
circuits: [{name: c1}]
regions:
  - name: r1
    hub: {name: hub1, prefixes: [10.1.0.0/16], route-server: {instances: [10.1.0.4, 10.1.0.5]},
          er-gateway: {instances: [10.1.0.12, 10.1.0.13]}}
routers: [{name: onprem, asn: 65100, address: 192.0.2.2}]
scenarios:
  - name: s
    steps:
)";
  auto t =
      load_topology_string(base + "      - {at: 1, show: [onprem, hub1-gw, msee-c2]}\n", "t.yaml");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().to_string().find("t.yaml:11"), std::string::npos) << t.error().to_string();
  EXPECT_NE(t.error().to_string().find("no device with a table named 'msee-c2' (there are: "
                                       "msee-c1, onprem, hub1, hub1-gw, c1)"),
            std::string::npos)
      << t.error().to_string();
  t = load_topology_string(base +
                               "      - {at: 1, expect: {table: {onprem: {10.1.0.0/16: "
                               "[10.1.0.12 12076 65515]}}}}\n",
                           "t.yaml");
  EXPECT_TRUE(t) << t.error().to_string();
}
