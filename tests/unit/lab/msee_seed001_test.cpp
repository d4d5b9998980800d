// Seed 001 (no-BGP anycast): the same VNet prefix 10.13.76.0/24 is originated by the two
// ExpressRoute gateway instances of two hubs. The MSEE (AS 12076) chooses among four equal
// routes by lowest next hop, ignoring route age, and a Virtual WAN route map prepending
// 11111 in the first hub moves the choice to the second hub. The tables below are the
// seed's own `az network express-route list-route-tables` output.
#include <gtest/gtest.h>

#include "lab/route_table.hpp"
#include "rib/rib_test_util.hpp"

using namespace anycastd;
using namespace anycastd::rib;
using namespace anycastd::rib::test;
using anycastd::lab::az_route_table;

namespace {

// One ExpressRoute gateway instance: AS 65515, originates the VNet prefix with next hop
// self toward the MSEE.
struct Gateway {
  Rib rib;
  PeerId msee;
  explicit Gateway(const std::string& self) : rib(RibConfig{65515, A(self).v4_value(), {}}) {
    msee = rib.add_peer({A("192.168.128.1"), 12076});
    rib.peer_up(msee, 1, A(self), std::nullopt, true, false);
  }
};

struct Seed001 : ::testing::Test {
  policy::Policy accept = policy::accept_all();
  DecisionConfig msee_decision() {
    DecisionConfig d;
    d.tie_breaks = {TieBreak::lowest_next_hop};
    return d;
  }
  Rib msee{RibConfig{12076, 0x0A000001, msee_decision()}};
  std::map<std::string, PeerId> peers;

  void SetUp() override {
    for (const char* gw :
         {"192.168.128.12", "192.168.128.13", "192.168.130.12", "192.168.130.13"}) {
      peers[gw] = msee.add_peer({A(gw), 65515, &accept});
      msee.peer_up(peers[gw], A(gw).v4_value(), std::nullopt, std::nullopt, true, false);
    }
    // The on-prem router (Google Cloud side); its path carries 12076 once, which the
    // MSEE in the seed accepts.
    PeerSettings onprem{A("169.254.41.169"), 133937, &accept};
    onprem.allow_own_as = 1;
    peers["onprem"] = msee.add_peer(onprem);
    msee.peer_up(peers["onprem"], 0xA9FE29A9, std::nullopt, std::nullopt, true, false);
  }

  // Originates `prefix` on the gateway and delivers what it exports to the MSEE. A Virtual
  // WAN route map's prepend is part of the route the hub originates (as the lab models it).
  void from_gateway(const std::string& gw, const std::string& prefix,
                    std::optional<uint32_t> route_map_prepend = std::nullopt) {
    Gateway g(gw);
    bgp::PathAttributes a;
    a.origin = bgp::kOriginIgp;
    if (route_map_prepend) a.as_path = bgp::AsPath{{{bgp::kAsSequence, {*route_map_prepend}}}};
    g.rib.originate(P(prefix), a);
    auto out = g.rib.take_outbound(g.msee);
    ASSERT_EQ(out.announce.size(), 1u);
    for (const auto& p : out.announce[0].prefixes)
      EXPECT_EQ(msee.announce(peers[gw], p, out.announce[0].received()), Accepted::yes);
  }
};

}  // namespace

TEST_F(Seed001, LowestNextHopWinsWhateverTheArrivalOrder) {
  // Announced newest-lowest: the oldest route would win on age, the seed says it does not.
  for (const char* gw : {"192.168.130.13", "192.168.130.12", "192.168.128.13", "192.168.128.12"})
    from_gateway(gw, "10.13.76.0/24");
  for (const char* gw : {"192.168.128.12", "192.168.128.13"}) from_gateway(gw, "192.168.128.0/23");
  for (const char* gw : {"192.168.130.12", "192.168.130.13"}) from_gateway(gw, "192.168.130.0/23");
  // The seed's table also lists the circuit's own 169.254.x link subnets, learned from
  // on-prem but never chosen (the MSEE has them connected); they are left out here.
  for (const char* p : {"192.168.128.0/23", "192.168.130.0/23"})
    EXPECT_EQ(msee.announce(peers["onprem"], P(p), attrs({133937, 12076}, "169.254.41.169")),
              Accepted::yes);

  EXPECT_EQ(az_route_table(msee),
            "LocPrf    Network           NextHop          Path          Weight\n"
            "--------  ----------------  ---------------  ------------  --------\n"
            "100       10.13.76.0/24     192.168.128.12*  65515         0\n"
            "100       10.13.76.0/24     192.168.128.13   65515         0\n"
            "100       10.13.76.0/24     192.168.130.12   65515         0\n"
            "100       10.13.76.0/24     192.168.130.13   65515         0\n"
            "100       192.168.128.0/23  192.168.128.12*  65515         0\n"
            "100       192.168.128.0/23  192.168.128.13   65515         0\n"
            "100       192.168.128.0/23  169.254.41.169   133937 12076  0\n"
            "100       192.168.130.0/23  192.168.130.12*  65515         0\n"
            "100       192.168.130.0/23  192.168.130.13   65515         0\n"
            "100       192.168.130.0/23  169.254.41.169   133937 12076  0\n");
}

TEST_F(Seed001, FailoverToTheSecondHubAndBackIgnoringAge) {
  for (const char* gw : {"192.168.128.12", "192.168.128.13", "192.168.130.12", "192.168.130.13"})
    from_gateway(gw, "10.13.76.0/24");
  auto chosen = [&] { return msee.find(P("10.13.76.0/24"))->best()->attrs->next_hop->to_string(); };
  EXPECT_EQ(chosen(), "192.168.128.12");
  // "remove the peerings from the VNet where the first private resolver is deployed"
  msee.withdraw(peers["192.168.128.12"], P("10.13.76.0/24"));
  msee.withdraw(peers["192.168.128.13"], P("10.13.76.0/24"));
  EXPECT_EQ(chosen(), "192.168.130.12");
  // Restored: the first hub's routes are now the newest and still win.
  from_gateway("192.168.128.13", "10.13.76.0/24");
  from_gateway("192.168.128.12", "10.13.76.0/24");
  EXPECT_EQ(chosen(), "192.168.128.12");
}

TEST_F(Seed001, VirtualWanRouteMapPrepending11111MovesTheChoiceToTheSecondHub) {
  for (const char* gw : {"192.168.128.12", "192.168.128.13"})
    from_gateway(gw, "10.13.76.0/24", 11111);
  for (const char* gw : {"192.168.130.12", "192.168.130.13"}) from_gateway(gw, "10.13.76.0/24");
  EXPECT_EQ(az_route_table(msee),
            "LocPrf    Network        NextHop          Path         Weight\n"
            "--------  -------------  ---------------  -----------  --------\n"
            "100       10.13.76.0/24  192.168.130.12*  65515        0\n"
            "100       10.13.76.0/24  192.168.130.13   65515        0\n"
            "100       10.13.76.0/24  192.168.128.12   65515 11111  0\n"
            "100       10.13.76.0/24  192.168.128.13   65515 11111  0\n");
}
