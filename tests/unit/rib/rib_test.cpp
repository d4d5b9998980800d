#include "rib/rib.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "rib/rib_test_util.hpp"

using namespace anycastd;
using namespace anycastd::rib;
using namespace anycastd::rib::test;

namespace {

// An NVA in AS 65010 with an eBGP route server (65515), an eBGP on-prem router (65020)
// and an iBGP neighbour (65010).
struct Nva : ::testing::Test {
  policy::Policy accept = policy::accept_all();
  Rib rib{RibConfig{65010, 0x0A000001, {}}};
  PeerId rs = 0, onprem = 0, ibgp = 0;

  void SetUp() override {
    rs = rib.add_peer({A("198.18.0.4"), 65515, &accept, &accept});
    onprem = rib.add_peer({A("198.18.0.20"), 65020, &accept, &accept});
    ibgp = rib.add_peer({A("198.18.0.11"), 65010});
    rib.peer_up(rs, 4, A("198.18.0.1"), A("2001:db8::1"), true, true);
    rib.peer_up(onprem, 20, A("198.18.0.1"), std::nullopt, true, false);
    rib.peer_up(ibgp, 11, A("198.18.0.1"), std::nullopt, true, false);
    for (PeerId p : {rs, onprem, ibgp}) rib.take_outbound(p);
  }
};

bgp::PathAttributes with_med(bgp::PathAttributes a, uint32_t med) {
  a.med = med;
  return a;
}

}  // namespace

TEST(Rib, Rfc8212NothingAcceptedFromAnEbgpPeerWithoutImportPolicy) {
  Rib rib{RibConfig{65010, 1, {}}};
  PeerId e = rib.add_peer({A("198.18.0.4"), 65515});
  PeerId i = rib.add_peer({A("198.18.0.5"), 65010});
  EXPECT_EQ(rib.announce(e, P("10.0.0.0/24"), attrs({65515}, "198.18.0.4")),
            Accepted::rejected_by_policy);
  EXPECT_EQ(rib.announce(i, P("10.0.1.0/24"), attrs({}, "198.18.0.5")), Accepted::yes);
  EXPECT_FALSE(rib.find(P("10.0.0.0/24")));
  EXPECT_TRUE(rib.find(P("10.0.1.0/24")));
}

TEST_F(Nva, OwnAsnInThePathIsALoopUnlessAllowed) {
  EXPECT_EQ(rib.announce(rs, P("10.1.0.0/16"), attrs({65515, 65010, 65001}, "198.18.0.4")),
            Accepted::rejected_loop);
  EXPECT_FALSE(rib.find(P("10.1.0.0/16")));
  PeerSettings s{A("198.18.0.30"), 65030, &accept};
  s.allow_own_as = 1;
  PeerId p = rib.add_peer(s);
  EXPECT_EQ(rib.announce(p, P("10.1.0.0/16"), attrs({65030, 65010}, "198.18.0.30")), Accepted::yes);
  EXPECT_EQ(rib.announce(p, P("10.2.0.0/16"), attrs({65030, 65010, 65010}, "198.18.0.30")),
            Accepted::rejected_loop);
}

TEST_F(Nva, LoopRejectionReplacesAnEarlierAcceptedRoute) {
  rib.announce(rs, P("10.1.0.0/16"), attrs({65515}, "198.18.0.4"));
  ASSERT_TRUE(rib.find(P("10.1.0.0/16")));
  rib.announce(rs, P("10.1.0.0/16"), attrs({65515, 65010}, "198.18.0.4"));
  EXPECT_FALSE(rib.find(P("10.1.0.0/16")));
  EXPECT_EQ(rib.accepted_from(rs), 0u);
}

TEST_F(Nva, EbgpExportPrependsOwnAsSetsNextHopSelfAndDropsMedAndLocalPref) {
  auto a = with_med(attrs({65515}, "198.18.0.4"), 50);
  a.local_pref = 300;
  rib.announce(rs, P("10.1.0.0/16"), a);
  auto to_onprem = rib.export_for(onprem, P("10.1.0.0/16"));
  ASSERT_TRUE(to_onprem);
  EXPECT_EQ(to_onprem->as_path->to_string(), "65010 65515");
  EXPECT_EQ(to_onprem->next_hop, A("198.18.0.1"));
  EXPECT_FALSE(to_onprem->med);
  EXPECT_FALSE(to_onprem->local_pref);
  // Never back to where it came from.
  EXPECT_FALSE(rib.export_for(rs, P("10.1.0.0/16")));
  // iBGP: path and next hop as received, LOCAL_PREF kept.
  auto to_ibgp = rib.export_for(ibgp, P("10.1.0.0/16"));
  ASSERT_TRUE(to_ibgp);
  EXPECT_EQ(to_ibgp->as_path->to_string(), "65515");
  EXPECT_EQ(to_ibgp->next_hop, A("198.18.0.4"));
  EXPECT_EQ(to_ibgp->local_pref, 300u);
}

TEST_F(Nva, Rfc8212NothingLearnedGoesToAnEbgpPeerWithoutExportPolicy) {
  PeerId quiet = rib.add_peer({A("198.18.0.40"), 65040, &accept, nullptr});
  rib.peer_up(quiet, 40, A("198.18.0.1"), std::nullopt, true, false);
  rib.announce(rs, P("10.1.0.0/16"), attrs({65515}, "198.18.0.4"));
  bgp::PathAttributes vip;
  vip.origin = bgp::kOriginIgp;
  rib.originate(P("9.9.9.9/32"), vip);
  auto out = rib.take_outbound(quiet);
  ASSERT_EQ(out.announce.size(), 1u);
  EXPECT_EQ(out.announce[0].prefixes, std::vector<Prefix>{P("9.9.9.9/32")});
}

TEST_F(Nva, LocalRoutesCarryTheirOwnPrependMedAndNextHop) {
  bgp::PathAttributes vip;
  vip.origin = bgp::kOriginIgp;
  vip.as_path = path({65010, 65010});  // prepend 2, as the seed-004 West Europe NVA
  vip.med = 20;
  rib.originate(P("9.9.9.9/32"), vip);
  auto e = rib.export_for(rs, P("9.9.9.9/32"));
  EXPECT_EQ(e->as_path->to_string(), "65010 65010 65010");
  EXPECT_EQ(e->med, 20u);
  EXPECT_EQ(e->next_hop, A("198.18.0.1"));
  auto i = rib.export_for(ibgp, P("9.9.9.9/32"));
  EXPECT_EQ(i->as_path->to_string(), "65010 65010");
  EXPECT_EQ(i->local_pref, 100u);
  // A fixed next hop on the VIP wins over self.
  vip.next_hop = A("198.18.0.99");
  rib.originate(P("9.9.9.9/32"), vip);
  EXPECT_EQ(rib.export_for(rs, P("9.9.9.9/32"))->next_hop, A("198.18.0.99"));
  // An IPv6 VIP uses the session's IPv6 self address, and is not sent where there is none.
  bgp::PathAttributes v6;
  v6.origin = bgp::kOriginIgp;
  rib.originate(P("2001:db8:9::9/128"), v6);
  EXPECT_EQ(rib.export_for(rs, P("2001:db8:9::9/128"))->next_hop, A("2001:db8::1"));
  EXPECT_FALSE(rib.export_for(onprem, P("2001:db8:9::9/128")));
}

TEST_F(Nva, IbgpRoutesAreReflectedOnlyThroughClients) {
  PeerId other = rib.add_peer({A("198.18.0.12"), 65010});
  rib.peer_up(other, 12, A("198.18.0.1"), std::nullopt, true, false);
  rib.announce(ibgp, P("10.5.0.0/16"), attrs({}, "198.18.0.11"));
  EXPECT_FALSE(rib.export_for(other, P("10.5.0.0/16")));
  PeerSettings client{A("198.18.0.13"), 65010};
  client.route_reflector_client = true;
  PeerId c = rib.add_peer(client);
  rib.peer_up(c, 13, A("198.18.0.1"), std::nullopt, true, false);
  EXPECT_TRUE(rib.export_for(c, P("10.5.0.0/16")));  // non-client → client
  rib.announce(c, P("10.6.0.0/16"), attrs({}, "198.18.0.13"));
  EXPECT_TRUE(rib.export_for(other, P("10.6.0.0/16")));  // client → non-client
}

// RFC 4456: a reflected route names its originator and our cluster; an eBGP peer sees
// neither; a route that comes back to its originator or through our cluster is a loop.
TEST_F(Nva, ReflectionAddsOriginatorAndClusterAndDetectsLoops) {
  PeerSettings client{A("198.18.0.13"), 65010};
  client.route_reflector_client = true;
  PeerId c = rib.add_peer(client);
  rib.peer_up(c, 13, A("198.18.0.1"), std::nullopt, true, false);
  rib.announce(ibgp, P("10.5.0.0/16"), attrs({}, "198.18.0.11"));
  auto r = rib.export_for(c, P("10.5.0.0/16"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->originator_id, 11u);  // the router id ibgp came up with
  EXPECT_EQ(r->cluster_list, std::vector<uint32_t>{0x0A000001});
  auto e = rib.export_for(onprem, P("10.5.0.0/16"));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->originator_id);
  EXPECT_TRUE(e->cluster_list.empty());
  // Already reflected once elsewhere: the originator stays, our cluster goes in front.
  auto far = attrs({}, "198.18.0.13");
  far.originator_id = 77;
  far.cluster_list = {0x0B000001};
  rib.announce(c, P("10.8.0.0/16"), far);
  auto twice = rib.export_for(ibgp, P("10.8.0.0/16"));
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->originator_id, 77u);
  EXPECT_EQ(twice->cluster_list, (std::vector<uint32_t>{0x0A000001, 0x0B000001}));
  auto mine = attrs({}, "198.18.0.11");
  mine.originator_id = 0x0A000001;
  EXPECT_EQ(rib.announce(ibgp, P("10.9.0.0/16"), mine), Accepted::rejected_loop);
  auto looped = attrs({}, "198.18.0.11");
  looped.cluster_list = {0x0B000001, 0x0A000001};
  EXPECT_EQ(rib.announce(ibgp, P("10.9.0.0/16"), looped), Accepted::rejected_loop);
  EXPECT_FALSE(rib.find(P("10.9.0.0/16")));
}

TEST_F(Nva, RouteServerClientsSeeTheRouteUnchanged) {
  PeerSettings s{A("198.18.0.50"), 65050, &accept, &accept};
  s.route_server_client = true;
  PeerId c = rib.add_peer(s);
  rib.peer_up(c, 50, A("198.18.0.1"), std::nullopt, true, false);
  rib.announce(onprem, P("10.7.0.0/16"), with_med(attrs({65020}, "198.18.0.20"), 7));
  auto e = rib.export_for(c, P("10.7.0.0/16"));
  EXPECT_EQ(e->as_path->to_string(), "65020");
  EXPECT_EQ(e->next_hop, A("198.18.0.20"));
  EXPECT_EQ(e->med, 7u);
}

TEST_F(Nva, OutboundSendsOnlyChangesGroupedPerAttributeSet) {
  for (int i = 0; i < 3; ++i)
    rib.announce(rs, P("10.0." + std::to_string(i) + ".0/24"), attrs({65515}, "198.18.0.4"));
  rib.announce(rs, P("10.9.0.0/24"), attrs({65515, 65001}, "198.18.0.4"));
  auto out = rib.take_outbound(onprem);
  ASSERT_EQ(out.announce.size(), 2u);
  EXPECT_EQ(out.announce[0].prefixes.size(), 3u);
  EXPECT_EQ(out.announce[1].prefixes.size(), 1u);
  EXPECT_FALSE(rib.outbound_pending(onprem));
  // Same attributes again: nothing to send.
  rib.announce(rs, P("10.0.1.0/24"), attrs({65515}, "198.18.0.4"));
  EXPECT_TRUE(rib.take_outbound(onprem).empty());
  // One change, one prefix.
  rib.announce(rs, P("10.0.1.0/24"), attrs({65515, 65002}, "198.18.0.4"));
  out = rib.take_outbound(onprem);
  EXPECT_EQ(out.size(), 1u);
  rib.withdraw(rs, P("10.0.2.0/24"));
  out = rib.take_outbound(onprem);
  EXPECT_TRUE(out.announce.empty());
  EXPECT_EQ(out.withdraw, std::vector<Prefix>{P("10.0.2.0/24")});
  // A withdrawal of something never sent sends nothing.
  rib.withdraw(rs, P("10.77.0.0/24"));
  EXPECT_TRUE(rib.take_outbound(onprem).empty());
}

// The Adj-RIB-Out is a bit per Loc-RIB position, and positions are reused: a withdrawn
// prefix must still be withdrawn when a new prefix has taken its place, the new one must
// not inherit "already sent", and a prefix that left and came back between two exports is
// simply announced.
TEST_F(Nva, AdjRibOutSurvivesPositionReuseAndChurnBetweenExports) {
  const auto a = P("10.0.1.0/24"), b = P("10.0.2.0/24"), c = P("10.0.3.0/24");
  rib.announce(rs, a, attrs({65515}, "198.18.0.4"));
  ASSERT_EQ(rib.take_outbound(onprem).size(), 1u);
  EXPECT_EQ(rib.advertised_count(onprem), 1u);

  // c takes a's place; it came from onprem, so it is not sent back there.
  rib.withdraw(rs, a);
  EXPECT_TRUE(rib.outbound_pending(onprem));  // the withdrawal is due
  rib.announce(onprem, c, attrs({65020}, "198.18.0.20"));
  auto out = rib.take_outbound(onprem);
  EXPECT_EQ(out.withdraw, std::vector<Prefix>{a});
  EXPECT_TRUE(out.announce.empty());
  EXPECT_EQ(rib.advertised_count(onprem), 0u);
  rib.withdraw(onprem, c);
  EXPECT_FALSE(rib.outbound_pending(onprem));  // onprem never held c
  EXPECT_TRUE(rib.take_outbound(onprem).empty());

  // b goes and comes back, and changes twice: one announcement, the latest.
  rib.announce(rs, b, attrs({65515}, "198.18.0.4"));
  rib.take_outbound(onprem);
  rib.withdraw(rs, b);
  rib.announce(rs, b, attrs({65515, 65001}, "198.18.0.4"));
  rib.announce(rs, b, attrs({65515, 65002}, "198.18.0.4"));
  out = rib.take_outbound(onprem);
  EXPECT_TRUE(out.withdraw.empty());
  ASSERT_EQ(out.announce.size(), 1u);
  EXPECT_EQ(out.announce[0].prefixes, std::vector<Prefix>{b});
  EXPECT_EQ(out.announce[0].attrs->as_path->to_string(), "65010 65515 65002");
  auto held = rib.advertised(onprem);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].first, b);
  EXPECT_EQ(held[0].second.attrs->as_path->to_string(), "65010 65515 65002");

  // Session loss forgets what the peer held: nothing to withdraw afterwards.
  rib.peer_down(onprem);
  rib.withdraw(rs, b);
  rib.peer_up(onprem, 20, A("198.18.0.1"), std::nullopt, true, false);
  EXPECT_TRUE(rib.take_outbound(onprem).empty());
  EXPECT_EQ(rib.advertised_count(onprem), 0u);
}

// A withdrawal UPDATE's prefixes go through together (loaded ahead of use): exactly the
// named ones leave, unknown and repeated ones change nothing.
TEST_F(Nva, AnUpdatesWithdrawalsTogetherRemoveExactlyThoseNamed) {
  auto nth = [](uint32_t i) { return Prefix(IpAddress::v4(0x0A000000u + (i << 8)), 24); };
  std::vector<Prefix> all;
  for (uint32_t i = 0; i < 100; ++i) all.push_back(nth(i));
  rib.announce(rs, all, attrs({65515}, "198.18.0.4"));
  ASSERT_EQ(rib.take_outbound(onprem).size(), 100u);
  std::vector<Prefix> gone;
  for (uint32_t i = 0; i < 100; i += 2) gone.push_back(nth(i));
  gone.push_back(nth(500));  // never announced
  gone.push_back(nth(4));    // twice
  rib.withdraw(rs, gone);
  EXPECT_EQ(rib.loc_rib().size(), 50u);
  EXPECT_EQ(rib.accepted_from(rs), 50u);
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(rib.find(nth(i)) != nullptr, i % 2 == 1) << i;
  auto out = rib.take_outbound(onprem);
  EXPECT_TRUE(out.announce.empty());
  std::sort(out.withdraw.begin(), out.withdraw.end());
  std::vector<Prefix> want(gone.begin(), gone.begin() + 50);
  EXPECT_EQ(out.withdraw, want);
}

TEST_F(Nva, SessionLossMovesBestToTheNextPeerAndTellsTheOthers) {
  rib.announce(rs, P("10.1.0.0/16"), attrs({65515}, "198.18.0.4"));
  rib.announce(onprem, P("10.1.0.0/16"), attrs({65020, 65515}, "198.18.0.20"));
  EXPECT_EQ(rib.find(P("10.1.0.0/16"))->best()->peer, rs);
  rib.take_outbound(ibgp);
  rib.peer_down(rs);
  EXPECT_EQ(rib.find(P("10.1.0.0/16"))->best()->peer, onprem);
  EXPECT_EQ(rib.find(P("10.1.0.0/16"))->paths.size(), 1u);
  EXPECT_EQ(rib.accepted_from(rs), 0u);
  auto out = rib.take_outbound(ibgp);
  ASSERT_EQ(out.announce.size(), 1u);
  EXPECT_EQ(out.announce[0].next_hop, A("198.18.0.20"));
  // The peer back up is sent the whole table again.
  rib.peer_up(rs, 4, A("198.18.0.1"), std::nullopt, true, false);
  out = rib.take_outbound(rs);
  EXPECT_EQ(out.size(), 1u);
}

TEST(Rib, MultipathKeepsUpToNEqualPaths) {
  policy::Policy accept = policy::accept_all();
  DecisionConfig d;
  d.multipath = 2;
  Rib rib{RibConfig{65515, 1, d}};
  std::vector<PeerId> nvas;
  for (int i = 0; i < 3; ++i) {
    nvas.push_back(rib.add_peer({A("198.18.0." + std::to_string(10 + i)), 65001u + i, &accept}));
    rib.announce(nvas.back(), P("9.9.9.9/32"),
                 attrs({65001u + i}, "198.18.0." + std::to_string(10 + i)));
  }
  rib.announce(rib.add_peer({A("198.18.0.20"), 65009, &accept}), P("9.9.9.9/32"),
               attrs({65009, 65009}, "198.18.0.20"));
  size_t multi = 0;
  for (const auto& p : rib.find(P("9.9.9.9/32"))->paths) multi += p.multipath;
  EXPECT_EQ(multi, 2u);
  EXPECT_TRUE(rib.find(P("9.9.9.9/32"))->best()->multipath);
}

// Peers are sent the best path only: an equal path joining the ECMP set changes the FIB's
// view, not what anyone is sent.
TEST(Rib, AnEcmpOnlyChangeReachesTheFibButNoPeer) {
  policy::Policy accept = policy::accept_all();
  DecisionConfig d;
  d.multipath = 2;
  Rib rib{RibConfig{65010, 1, d}};
  PeerId n1 = rib.add_peer({A("198.18.0.10"), 65001, &accept});
  PeerId n2 = rib.add_peer({A("198.18.0.11"), 65002, &accept});
  PeerId onprem = rib.add_peer({A("198.18.0.20"), 65020, &accept, &accept});
  rib.peer_up(n1, 10, A("198.18.0.1"), std::nullopt, true, false);
  rib.peer_up(n2, 11, A("198.18.0.1"), std::nullopt, true, false);
  rib.peer_up(onprem, 20, A("198.18.0.1"), std::nullopt, true, false);
  rib.announce(n1, P("9.9.9.9/32"), attrs({65001}, "198.18.0.10"));
  ASSERT_EQ(rib.take_outbound(onprem).size(), 1u);
  int fib_changes = 0;
  rib.on_change = [&](const Prefix&, const Entry*) { ++fib_changes; };
  rib.announce(n2, P("9.9.9.9/32"), attrs({65002}, "198.18.0.11"));
  ASSERT_EQ(rib.find(P("9.9.9.9/32"))->best()->peer, n1);
  size_t multi = 0;
  for (const auto& p : rib.find(P("9.9.9.9/32"))->paths) multi += p.multipath;
  EXPECT_EQ(multi, 2u);
  EXPECT_EQ(fib_changes, 1);
  EXPECT_FALSE(rib.outbound_pending(onprem));
  EXPECT_TRUE(rib.take_outbound(onprem).empty());
}

TEST(Rib, MaxPrefixWarnsThenReportsTheLimit) {
  policy::Policy accept = policy::accept_all();
  Rib rib{RibConfig{65515, 1, {}}};
  PeerSettings s{A("198.18.0.10"), 65001, &accept};
  s.max_prefix = 5;
  s.max_prefix_warning = 80;
  PeerId p = rib.add_peer(s);
  std::vector<Accepted> got;
  for (int i = 0; i < 6; ++i)
    got.push_back(
        rib.announce(p, P("10.0." + std::to_string(i) + ".0/24"), attrs({65001}, "198.18.0.10")));
  EXPECT_EQ(got, (std::vector<Accepted>{Accepted::yes, Accepted::yes, Accepted::yes,
                                        Accepted::warning_threshold, Accepted::yes,
                                        Accepted::limit_exceeded}));
}

TEST(Rib, AttributeSetsAreInternedAndReleased) {
  policy::Policy accept = policy::accept_all();
  Rib rib{RibConfig{65515, 1, {}}};
  PeerId p = rib.add_peer({A("198.18.0.10"), 65001, &accept});
  for (int i = 0; i < 1000; ++i)
    rib.announce(p, Prefix(IpAddress::v4(0x0A000000u + (i << 8)), 24),
                 attrs({65001, 100u + i % 10}, "198.18.0.10"));
  EXPECT_EQ(rib.attr_store().size(), 10u);
  const auto* a = rib.find(P("10.0.0.0/24"))->best()->attrs.get();
  EXPECT_EQ(rib.find(P("10.0.10.0/24"))->best()->attrs.get(), a);
  rib.peer_down(p);
  EXPECT_EQ(rib.loc_rib().size(), 0u);
  EXPECT_EQ(rib.attr_store().size(), 0u);
}

// Routes (and `show` output) may hold a set after the RIB that interned it is gone.
TEST(Rib, AnAttributeSetMayOutliveItsStore) {
  Attrs kept;
  {
    AttrStore store;
    kept = store.intern(attrs({65001}, "198.18.0.10"));
    Attrs again = store.intern(attrs({65001}, "198.18.0.10"));
    EXPECT_EQ(again, kept);
    EXPECT_EQ(store.size(), 1u);
  }
  EXPECT_EQ(kept->as_path->to_string(), "65001");
  kept = nullptr;  // frees the set and the table it left behind (ASan checks both)
  Attrs one = Attrs::standalone(attrs({65002}, "198.18.0.11"));
  Attrs copy = one;
  EXPECT_EQ(copy->as_path->to_string(), "65002");
}

// The store's index is open addressing with backward-shift deletion: after sets are
// released in random order, every survivor must still be found (the same set back, not a
// second copy) and the count must be right.
TEST(Rib, AttributeStoreFindsEverySurvivorThroughRandomReleases) {
  AttrStore store;
  std::vector<Attrs> held;
  for (uint32_t i = 0; i < 5000; ++i)
    held.push_back(store.intern(attrs({65001, i}, "198.18.0.10")));
  std::mt19937 rng(3);
  std::vector<uint32_t> alive;
  for (uint32_t i = 0; i < 5000; ++i) {
    if (rng() % 3 == 0)
      held[i] = nullptr;
    else
      alive.push_back(i);
  }
  EXPECT_EQ(store.size(), alive.size());
  for (uint32_t i : alive) {
    Attrs again = store.intern(attrs({65001, i}, "198.18.0.10"));
    EXPECT_EQ(again, held[i]) << i;
  }
  EXPECT_EQ(store.size(), alive.size());
}

// Seed 003: an NVA learns a spoke prefix from its route server (path 65515) and passes it
// to the other region's NVA; that NVA's route server (65515 too) drops it as a loop unless
// the first NVA removes 65515 on the way out.
TEST(Rib, Seed003AsPathRewriteLetsTheRemoteRouteServerAcceptSpokePrefixes) {
  policy::Policy accept = policy::accept_all();
  policy::Policy rewrite{"remove-65515", {}, true};
  policy::Term t;
  t.actions.remove_asns = {65515};
  rewrite.terms.push_back(t);
  for (bool with_rewrite : {false, true}) {
    Rib nva1{RibConfig{65001, 1, {}}}, nva2{RibConfig{65002, 2, {}}}, rs2{RibConfig{65515, 3, {}}};
    PeerId rs1_at_nva1 = nva1.add_peer({A("198.18.1.4"), 65515, &accept});
    PeerId nva2_at_nva1 =
        nva1.add_peer({A("198.18.9.2"), 65002, &accept, with_rewrite ? &rewrite : &accept});
    nva1.peer_up(nva2_at_nva1, 2, A("198.18.9.1"), std::nullopt, true, false);
    PeerId nva1_at_nva2 = nva2.add_peer({A("198.18.9.1"), 65001, &accept});
    PeerId rs2_at_nva2 = nva2.add_peer({A("198.18.2.4"), 65515, &accept, &accept});
    nva2.peer_up(rs2_at_nva2, 3, A("198.18.2.1"), std::nullopt, true, false);
    PeerId nva2_at_rs2 = rs2.add_peer({A("198.18.2.1"), 65002, &accept});

    nva1.announce(rs1_at_nva1, P("10.1.1.0/24"), attrs({65515}, "198.18.1.4"));
    for (const auto& g : nva1.take_outbound(nva2_at_nva1).announce)
      for (const auto& p : g.prefixes) nva2.announce(nva1_at_nva2, p, g.received());
    std::vector<Accepted> at_rs2;
    for (const auto& g : nva2.take_outbound(rs2_at_nva2).announce)
      for (const auto& p : g.prefixes) at_rs2.push_back(rs2.announce(nva2_at_rs2, p, g.received()));
    ASSERT_EQ(at_rs2.size(), 1u);
    if (with_rewrite) {
      EXPECT_EQ(at_rs2[0], Accepted::yes);
      EXPECT_EQ(rs2.find(P("10.1.1.0/24"))->best()->attrs->as_path->to_string(), "65002 65001");
    } else {
      EXPECT_EQ(at_rs2[0], Accepted::rejected_loop);
    }
  }
}

// An UPDATE's prefixes go in together: the same outcome per prefix as one at a time,
// whether the import policy reads the prefix (prefix list) or not (community match).
TEST(Rib, AnUpdatesPrefixesTogetherGetWhatEachWouldAlone) {
  policy::Policy by_community;
  policy::Term drop;
  drop.match.communities = {(65001u << 16) | 666};
  drop.actions.verdict = policy::Actions::Verdict::reject;
  by_community.terms.push_back(drop);
  by_community.default_accept = true;
  policy::Policy by_prefix;
  policy::Term only;
  only.match.prefixes = {policy::PrefixMatch::exact(P("10.0.1.0/24"))};
  only.actions.verdict = policy::Actions::Verdict::accept;
  by_prefix.terms.push_back(only);
  Rib rib{RibConfig{65515, 1, {}}};
  PeerSettings s{A("198.18.0.10"), 65001, &by_community};
  s.max_prefix = 3;
  PeerId p = rib.add_peer(s);
  PeerId q = rib.add_peer({A("198.18.0.11"), 65002, &by_prefix});
  std::vector<Prefix> three{P("10.0.0.0/24"), P("10.0.1.0/24"), P("10.0.2.0/24")};
  std::vector<std::pair<Prefix, Accepted>> seen;
  auto each = [&](const Prefix& x, Accepted a) { seen.emplace_back(x, a); };
  EXPECT_EQ(rib.announce(p, three, attrs({65001}, "198.18.0.10"), each),
            Accepted::warning_threshold);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], std::make_pair(P("10.0.2.0/24"), Accepted::warning_threshold));
  EXPECT_EQ(rib.accepted_from(p), 3u);
  // One attribute set shared by all three.
  EXPECT_EQ(rib.find(P("10.0.0.0/24"))->paths[0].attrs, rib.find(P("10.0.2.0/24"))->paths[0].attrs);
  // The same prefixes again with the dropped community: all three leave.
  auto tagged = attrs({65001}, "198.18.0.10");
  tagged.communities = {(65001u << 16) | 666};
  seen.clear();
  EXPECT_EQ(rib.announce(p, three, tagged, each), Accepted::yes);
  for (const auto& [x, a] : seen) EXPECT_EQ(a, Accepted::rejected_by_policy) << x.to_string();
  EXPECT_EQ(rib.accepted_from(p), 0u);
  EXPECT_FALSE(rib.find(P("10.0.1.0/24")));
  // A prefix list decides per prefix.
  seen.clear();
  rib.announce(q, three, attrs({65002}, "198.18.0.11"), each);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].second, Accepted::rejected_by_policy);
  EXPECT_EQ(seen[1].second, Accepted::yes);
  EXPECT_EQ(seen[2].second, Accepted::rejected_by_policy);
  EXPECT_TRUE(rib.find(P("10.0.1.0/24")));
  EXPECT_EQ(rib.accepted_from(q), 1u);
  // Over the limit in one UPDATE: the limit wins over the warning.
  std::vector<Prefix> four{P("10.1.0.0/24"), P("10.1.1.0/24"), P("10.1.2.0/24"), P("10.1.3.0/24")};
  EXPECT_EQ(rib.announce(p, four, attrs({65001}, "198.18.0.10")), Accepted::limit_exceeded);
}
