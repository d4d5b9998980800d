#include "bgp/vip_routes.hpp"

#include <gtest/gtest.h>

#include "rib/rib.hpp"
#include "wire/test_util.hpp"

using namespace anycastd;
using namespace anycastd::bgp;
using namespace anycastd::bgp::test;

namespace {

PeerConfig route_server() {
  PeerConfig p;
  p.address = A("172.16.159.4");
  p.remote_as = 65515;
  return p;
}

// The VIP as the RIB exports it to `peer` over a session whose own address is `local`.
std::optional<PathAttributes> exported(const VipConfig& v, const PeerConfig& peer,
                                       const IpAddress& local) {
  rib::Rib rib(rib::RibConfig{65010, 1, {}});
  auto id = rib.add_peer({peer.address, peer.remote_as});
  auto self = self_next_hops(peer, local);
  rib.peer_up(id, 2, self.v4, self.v6, true, true);
  rib.originate(v.prefix, vip_attributes(v, 65010));
  return rib.export_for(id, v.prefix);
}

}  // namespace

// Seed 004: West Europe announces 9.9.9.9/32 with "as-path [ 65010 65010 65010 ]", which
// the route server shows as 65010-65010-65010: one own ASN plus two prepends.
TEST(VipAdvert, Seed004PrependAndNextHopSelf) {
  VipConfig v{P("9.9.9.9/32"), std::nullopt, 2, {}, {}, std::nullopt};
  auto a = exported(v, route_server(), A("172.16.136.70"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->as_path->to_string(), "65010 65010 65010");
  EXPECT_EQ(a->next_hop, A("172.16.136.70"));
  EXPECT_EQ(*a->origin, kOriginIgp);
  EXPECT_FALSE(a->local_pref);  // never sent to an eBGP peer
}

// Seed 001's Virtual WAN route map: the connection's routes carry 11111 behind the hub's
// own 65515, which the ExpressRoute edge shows as "65515 11111".
TEST(VipAdvert, PathAsnsFollowOwnAsn) {
  VipConfig v{P("10.13.76.0/24"), std::nullopt, 0, {}, {}, std::nullopt};
  v.path_asns = {11111};
  auto a = exported(v, route_server(), A("192.168.128.12"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->as_path->to_string(), "65010 11111");
}

TEST(VipAdvert, IbgpPeerGetsLocalPrefAndNoOwnAsn) {
  PeerConfig p = route_server();
  p.remote_as = 65010;
  VipConfig v{P("9.9.9.9/32"), std::nullopt, 0, {}, {}, 20};
  auto a = exported(v, p, A("172.16.136.70"));
  EXPECT_EQ(a->as_path->length(), 0u);
  EXPECT_EQ(a->local_pref, 100u);
  EXPECT_EQ(a->med, 20u);
}

TEST(VipAdvert, NextHopChoiceOrder) {
  PeerConfig p = route_server();
  VipConfig v4{P("9.9.9.9/32"), A("198.18.0.9"), 0, {}, {}, std::nullopt};
  EXPECT_EQ(exported(v4, p, A("127.0.0.1"))->next_hop, A("198.18.0.9"));
  p.next_hop_v4 = A("198.18.0.7");
  v4.next_hop.reset();
  EXPECT_EQ(exported(v4, p, A("127.0.0.1"))->next_hop, A("198.18.0.7"));
  VipConfig v6{P("2001:2::9/128"), std::nullopt, 0, {}, {}, std::nullopt};
  EXPECT_EQ(exported(v6, p, A("198.18.0.1"))->next_hop, A("::ffff:198.18.0.1"));
  p.next_hop_v6 = A("2001:2::1");
  EXPECT_EQ(exported(v6, p, A("198.18.0.1"))->next_hop, A("2001:2::1"));
  // An IPv4 VIP over an IPv6 session has no IPv4 next hop unless configured.
  PeerConfig p6 = route_server();
  EXPECT_FALSE(exported(v4, p6, A("2001:2::5")));
}

TEST(VipAdvert, HealthAdjustmentAddsPrependAndCommunityAndReplacesMed) {
  VipConfig v{P("9.9.9.9/32"), std::nullopt, 1, {0xFDE80001}, {}, 20};
  auto a = vip_attributes(v, 65010, VipAnnouncement{true, 3, {0xFFFF0000, 0xFDE80001}, 500});
  EXPECT_EQ(a.as_path->to_string(), "65010 65010 65010 65010");
  EXPECT_EQ(a.communities, (std::vector<uint32_t>{0xFDE80001, 0xFFFF0000}));
  EXPECT_EQ(a.med, 500u);
}
