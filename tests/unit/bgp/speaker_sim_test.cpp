// Two speakers on the simulated network: whole sessions, deterministic, no sockets.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "bgp/speaker.hpp"
#include "runtime/sim/sim_network.hpp"
#include "wire/test_util.hpp"

using namespace anycastd;
using namespace anycastd::bgp;
using namespace anycastd::bgp::test;
using namespace std::chrono_literals;

namespace {

struct Pair : ::testing::Test {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 1ms};
  std::unique_ptr<Transport> ta = net.host(A("198.18.0.1"));
  std::unique_ptr<Transport> tb = net.host(A("198.18.0.2"));

  void SetUp() override { spdlog::set_level(spdlog::level::off); }

  SpeakerConfig nva(bool passive = false, uint32_t id = 0xC6120001) {
    SpeakerConfig c;
    c.local_as = 65010;
    c.router_id = id;
    c.listen_address = A("198.18.0.1");
    PeerConfig p;
    p.address = A("198.18.0.2");
    p.remote_as = 65515;
    p.hold_time = 9;
    p.passive = passive;
    p.next_hop_v6 = A("2001:2::1");
    c.peers = {p};
    c.vips = {{P("9.9.9.9/32"), std::nullopt, 2, {(65010u << 16) | 100}, {{65010, 1, 2}}, 50},
              {P("2001:2::9/128"), std::nullopt, 0, {}, {}, std::nullopt}};
    return c;
  }
  // The default BFD (300 ms x 3) on the one peer of c.
  static SpeakerConfig with_bfd(SpeakerConfig c) {
    c.peers[0].bfd = bfd::Params{};
    return c;
  }
  SpeakerConfig route_server(bool passive = true, uint32_t id = 0xC6120002) {
    SpeakerConfig c;
    c.local_as = 65515;
    c.router_id = id;
    c.listen_address = A("198.18.0.2");
    PeerConfig p;
    p.address = A("198.18.0.1");
    p.remote_as = 65010;
    p.hold_time = 9;
    p.passive = passive;
    // RFC 8212: without an import policy nothing from an eBGP peer is accepted.
    c.policies["accept"] = policy::accept_all();
    p.import_policy = "accept";
    c.peers = {p};
    return c;
  }
};

}  // namespace

TEST_F(Pair, RouteServerReceivesVipsWithExactAttributes) {
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, nva());
  ASSERT_TRUE(rs.start().ok());
  ASSERT_TRUE(a.start().ok());
  loop.run_for(1s);
  ASSERT_EQ(a.peer_state(0), State::established);
  ASSERT_EQ(rs.peer_state(0), State::established);
  const auto& got = rs.received(0);
  ASSERT_EQ(got.size(), 2u);
  const auto& r4 = got.at(P("9.9.9.9/32"));
  EXPECT_EQ(r4.attrs.as_path->to_string(), "65010 65010 65010");
  EXPECT_EQ(r4.next_hop, A("198.18.0.1"));
  EXPECT_EQ(r4.attrs.med, 50u);
  EXPECT_EQ(r4.attrs.communities, std::vector<uint32_t>{(65010u << 16) | 100});
  EXPECT_EQ(r4.attrs.large_communities, (std::vector<LargeCommunity>{{65010, 1, 2}}));
  const auto& r6 = got.at(P("2001:2::9/128"));
  EXPECT_EQ(r6.attrs.as_path->to_string(), "65010");
  EXPECT_EQ(r6.next_hop, A("2001:2::1"));
}

TEST_F(Pair, ShutdownWithdrawsBeforeClosing) {
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, nva());
  rs.start();
  a.start();
  loop.run_for(1s);
  ASSERT_EQ(rs.received(0).size(), 2u);
  std::vector<Prefix> withdrawn;
  rs.on_update = [&](size_t, const Update& u) {
    for (const auto& p : u.withdrawn_all()) withdrawn.push_back(p);
  };
  bool done = false;
  a.shutdown([&] { done = true; });
  loop.run_for(100ms);
  EXPECT_TRUE(done);
  EXPECT_EQ(withdrawn.size(), 2u) << "VIPs must be withdrawn explicitly, not just dropped";
  EXPECT_TRUE(rs.received(0).empty());
  EXPECT_NE(rs.peer_state(0), State::established);
}

// The shutdown's done is owned by the speaker: freed before the loop's next turn, it calls
// nothing (its caller, the daemon, may be gone too: a crash in the same lab step).
TEST_F(Pair, ShutdownDoneDiesWithTheSpeaker) {
  Speaker rs(loop, *tb, route_server());
  auto a = std::make_unique<Speaker>(loop, *ta, nva());
  rs.start();
  a->start();
  loop.run_for(1s);
  bool done = false;
  a->shutdown([&] { done = true; });
  a.reset();
  loop.run_for(1s);
  EXPECT_FALSE(done);
}

// The timers in force show once the peer's OPEN is in: the smaller hold time of the two,
// and what the peer offered (Azure Route Server's answer to a 9 s proposal, say).
TEST_F(Pair, NegotiatedTimersShowOnceThePeersOpenIsIn) {
  auto rs_cfg = route_server();
  rs_cfg.peers[0].hold_time = 180;
  Speaker rs(loop, *tb, rs_cfg);
  Speaker a(loop, *ta, nva());  // offers 9
  EXPECT_FALSE(a.peer_info(0).hold_time);
  rs.start();
  a.start();
  loop.run_for(1s);
  ASSERT_EQ(a.peer_state(0), State::established);
  EXPECT_EQ(a.peer_info(0).hold_time, 9u);
  EXPECT_EQ(a.peer_info(0).peer_hold_time, 180u);
  EXPECT_EQ(rs.peer_info(0).hold_time, 9u);
  EXPECT_EQ(rs.peer_info(0).peer_hold_time, 9u);
}

TEST_F(Pair, VipWithdrawAndReannounce) {
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, nva());
  rs.start();
  a.start();
  loop.run_for(1s);
  a.set_vip_up(P("9.9.9.9/32"), false);
  loop.run_for(10ms);
  EXPECT_EQ(rs.received(0).count(P("9.9.9.9/32")), 0u);
  EXPECT_EQ(rs.received(0).count(P("2001:2::9/128")), 1u);
  a.set_vip_up(P("9.9.9.9/32"), true);
  loop.run_for(10ms);
  EXPECT_EQ(rs.received(0).count(P("9.9.9.9/32")), 1u);
  EXPECT_EQ(rs.peer_state(0), State::established) << "no session reset for a VIP change";
}

TEST_F(Pair, BothActiveCollisionSettlesOnOneEstablishedSession) {
  Speaker rs(loop, *tb, route_server(false));
  Speaker a(loop, *ta, nva(false));
  rs.start();
  a.start();
  loop.run_for(30s);
  EXPECT_EQ(a.peer_state(0), State::established);
  EXPECT_EQ(rs.peer_state(0), State::established);
  EXPECT_EQ(rs.received(0).size(), 2u);
}

TEST_F(Pair, HoldTimerDetectsSilentPeerAndSessionRecoversAfterHeal) {
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, nva());
  rs.start();
  a.start();
  loop.run_for(1s);
  ASSERT_EQ(rs.received(0).size(), 2u);
  net.partition(A("198.18.0.1"), A("198.18.0.2"));
  loop.run_for(8s);
  // A partition tells nobody: the routes stay until the 9 s hold timer runs out.
  EXPECT_EQ(rs.received(0).size(), 2u);
  EXPECT_EQ(rs.peer_state(0), State::established);
  loop.run_for(2s);
  EXPECT_TRUE(rs.received(0).empty()) << "routes of a lost session must go";
  EXPECT_NE(rs.peer_state(0), State::established);
  net.heal(A("198.18.0.1"), A("198.18.0.2"));
  loop.run_for(60s);
  EXPECT_EQ(a.peer_state(0), State::established);
  EXPECT_EQ(rs.received(0).size(), 2u);
}

// A partition shorter than the hold time loses nothing: a withdrawal sent into it waits
// (TCP retransmits) and arrives when the link heals, and the session never drops.
TEST_F(Pair, WithdrawalSentIntoAShortPartitionArrivesAfterHeal) {
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, nva());
  rs.start();
  a.start();
  loop.run_for(1s);
  ASSERT_EQ(rs.received(0).count(P("9.9.9.9/32")), 1u);
  auto sessions = rs.peer_info(0).established_count;
  net.partition(A("198.18.0.1"), A("198.18.0.2"));
  a.set_vip_up(P("9.9.9.9/32"), false);
  loop.run_for(3s);
  EXPECT_EQ(rs.received(0).count(P("9.9.9.9/32")), 1u) << "nothing crosses a partition";
  net.heal(A("198.18.0.1"), A("198.18.0.2"));
  loop.run_for(100ms);
  EXPECT_EQ(rs.received(0).count(P("9.9.9.9/32")), 0u);
  EXPECT_EQ(rs.peer_info(0).established_count, sessions);
  EXPECT_EQ(a.peer_state(0), State::established);
}

TEST_F(Pair, WrongRemoteAsNeverEstablishesAndBacksOff) {
  auto cfg = route_server();
  cfg.peers[0].remote_as = 65020;
  Speaker rs(loop, *tb, cfg);
  Speaker a(loop, *ta, nva());
  int attempts = 0;
  rs.start();
  a.start();
  a.on_peer_state = [&](size_t, State) { ++attempts; };
  loop.run_for(60s);
  EXPECT_NE(a.peer_state(0), State::established);
  // With 1,2,4,8,16,32 s backoff, a minute holds only a handful of attempts, not dozens.
  EXPECT_LE(attempts, 8);
}

// A connect nobody answers is what a TCP-MD5 key mismatch or a GTSM peer too far away
// looks like (the kernel drops the segments): `show peers` says which to check.
TEST_F(Pair, UnansweredConnectSaysWhatToCheckInThePeersInfo) {
  net.crash(A("198.18.0.2"));
  auto cfg = nva();
  cfg.peers[0].connect_retry = 2s;
  cfg.peers[0].password = "secret";
  Speaker md5(loop, *ta, cfg);
  md5.start();
  loop.run_for(5s);
  EXPECT_EQ(md5.peer_info(0).last_error, "no answer: check TCP-MD5 passwords on both sides");

  cfg.peers[0].password.clear();
  cfg.peers[0].ttl_security = true;
  cfg.listen_address = A("198.18.0.3");
  auto tc = net.host(A("198.18.0.3"));
  cfg.peers[0].local_address = A("198.18.0.3");
  Speaker gtsm(loop, *tc, cfg);
  gtsm.start();
  loop.run_for(5s);
  EXPECT_NE(gtsm.peer_info(0).last_error.find("ttl-security"), std::string::npos)
      << gtsm.peer_info(0).last_error;
}

// error-wait-time bounds the back-off (BIRD's `error wait time`), and the peer's info says
// how long until it tries again, as `show peers` prints it.
TEST_F(Pair, ErrorWaitTimeBoundsTheBackOffAndIsShown) {
  auto cfg = route_server();
  cfg.peers[0].remote_as = 65020;
  Speaker rs(loop, *tb, cfg);
  auto nc = nva();
  nc.peers[0].error_wait_min = 500ms;
  nc.peers[0].error_wait_max = 2s;
  Speaker a(loop, *ta, nc);
  int attempts = 0;
  rs.start();
  a.start();
  a.on_peer_state = [&](size_t, State) { ++attempts; };
  Duration longest{};
  for (int i = 0; i < 600; ++i) {
    loop.run_for(100ms);
    auto info = a.peer_info(0);
    if (!info.retry_at) continue;
    EXPECT_GE(*info.retry_at, loop.now());
    longest = std::max(longest, *info.retry_at - loop.now());
  }
  EXPECT_NE(a.peer_state(0), State::established);
  EXPECT_GT(longest, 1s) << "the wait doubles";
  EXPECT_LE(longest, 2s) << "and stops at error-wait-time.max";
  EXPECT_GE(a.peer_info(0).failures, 10u);
  // 60 s of 1..2 s waits: about 30 attempts, where the default 1..120 s back-off makes 6.
  EXPECT_GE(attempts, 25);
}

// A peer with an MRAI and a batch waiting for it is removed by a reload: the MRAI timer
// must die with the peer (it used to fire on the freed peer: ASan heap-use-after-free).
TEST_F(Pair, RemovedPeerTakesItsPendingMraiTimerWithIt) {
  std::unique_ptr<Transport> tc = net.host(A("198.18.0.3"));
  // a: the route source (a VIP it flaps); b: the speaker under test; c: b's MRAI peer.
  SpeakerConfig ca = nva();
  ca.peers[0].address = A("198.18.0.2");
  ca.peers[0].remote_as = 65515;
  SpeakerConfig cb = route_server();
  PeerConfig to_c;
  to_c.address = A("198.18.0.3");
  to_c.remote_as = 65020;
  to_c.hold_time = 9;
  to_c.mrai = 5s;
  to_c.export_policy = "accept";
  cb.peers.push_back(to_c);
  SpeakerConfig cc;
  cc.local_as = 65020;
  cc.router_id = 0xC6120003;
  cc.listen_address = A("198.18.0.3");
  PeerConfig back;
  back.address = A("198.18.0.2");
  back.remote_as = 65515;
  back.hold_time = 9;
  back.passive = true;
  cc.policies["accept"] = policy::accept_all();
  back.import_policy = "accept";
  cc.peers = {back};
  Speaker a(loop, *ta, ca), b(loop, *tb, cb), c(loop, *tc, cc);
  a.start();
  b.start();
  c.start();
  loop.run_for(7s);  // the first batch to c waited for its MRAI too
  ASSERT_EQ(b.peer_state(1), State::established);
  ASSERT_EQ(c.received(0).count(P("9.9.9.9/32")), 1u);
  a.set_vip_up(P("9.9.9.9/32"), false);  // b's change to c now waits for the MRAI
  loop.run_for(50ms);
  EXPECT_EQ(c.received(0).count(P("9.9.9.9/32")), 1u) << "the withdrawal waits for the MRAI";
  auto kept = b.config().peers;
  kept.pop_back();
  auto r = b.reconfigure(kept, b.config().vips);
  ASSERT_EQ(r.removed.size(), 1u);
  loop.run_for(10s);  // past the MRAI: the dropped peer's timer must not run
  EXPECT_EQ(b.peer_count(), 1u);
  EXPECT_EQ(b.peer_state(0), State::established);
}

// A reload that changes one peer's TCP-MD5 password restarts that session alone: the
// kernel's key is per connection, so the session must be made again to carry it.
TEST_F(Pair, ChangingOnePeersPasswordRestartsOnlyThatSession) {
  std::unique_ptr<Transport> tc = net.host(A("198.18.0.3"));
  SpeakerConfig ca = nva();
  ca.peers[0].address = A("198.18.0.2");
  ca.peers[0].remote_as = 65515;
  SpeakerConfig cb = route_server();
  PeerConfig to_c;
  to_c.address = A("198.18.0.3");
  to_c.remote_as = 65020;
  to_c.password = "one";
  cb.peers.push_back(to_c);
  cb.peers[0].password = "kept";
  SpeakerConfig cc = route_server();
  cc.local_as = 65020;
  cc.router_id = 0xC6120003;
  cc.listen_address = A("198.18.0.3");
  cc.peers[0].address = A("198.18.0.2");
  cc.peers[0].remote_as = 65515;
  cc.peers[0].passive = true;
  Speaker a(loop, *ta, ca), b(loop, *tb, cb), c(loop, *tc, cc);
  a.start();
  b.start();
  c.start();
  loop.run_for(10s);
  ASSERT_EQ(b.peer_state(0), State::established);
  ASSERT_EQ(b.peer_state(1), State::established);
  auto next = b.config().peers;
  next[1].password = "two";
  auto r = b.reconfigure(next, b.config().vips);
  EXPECT_EQ(r.restarted, std::vector<std::string>{next[1].name()});
  EXPECT_TRUE(r.added.empty() && r.removed.empty());
  loop.run_for(10s);
  EXPECT_EQ(b.peer_info(0).established_count, 1u) << "the unchanged peer kept its session";
  EXPECT_EQ(b.peer_info(1).established_count, 1u) << "a new session, counted afresh";
  EXPECT_EQ(b.peer_state(1), State::established);
  EXPECT_EQ(b.config().peers[1].password, "two");
}

TEST_F(Pair, SameRunIsDeterministic) {
  auto run = [&] {
    sim::SimLoop l;
    sim::SimNetwork n{l, 1ms};
    auto x = n.host(A("198.18.0.1"));
    auto y = n.host(A("198.18.0.2"));
    Speaker rs(l, *y, route_server(false));
    Speaker a(l, *x, nva(false));
    rs.start();
    a.start();
    TimePoint up{};
    a.on_peer_state = [&](size_t, State s) {
      if (s == State::established && up == TimePoint{}) up = l.now();
    };
    l.run_for(30s);
    return up;
  };
  auto first = run();
  EXPECT_NE(first, TimePoint{});
  EXPECT_EQ(first, run());
}

// Reload of an export policy: the peer gets only the difference, withdrawals included, and
// the session is never reset.
// Reload of an export policy re-exports what it governs -- learned routes -- without
// resetting the session: a spoke prefix learned from a third router passes from the NVA to
// the route server through "out".
TEST_F(Pair, ExportPolicyChangeReExportsWithoutReset) {
  auto prepend_once = [] {
    policy::Policy p{"out", {}, false};
    policy::Term t;
    t.actions.prepend = {{0, 1}};
    t.actions.verdict = policy::Actions::Verdict::accept;
    p.terms.push_back(t);
    return p;
  };
  auto tc = net.host(A("198.18.0.3"));
  SpeakerConfig spoke;
  spoke.local_as = 65030;
  spoke.router_id = 0xC6120003;
  spoke.listen_address = A("198.18.0.3");
  PeerConfig to_nva;
  to_nva.address = A("198.18.0.1");
  to_nva.remote_as = 65010;
  to_nva.export_policy = "accept";
  spoke.policies["accept"] = policy::accept_all();
  spoke.peers = {to_nva};
  VipConfig net10;
  net10.prefix = P("10.30.0.0/16");
  net10.network = true;
  spoke.vips = {net10};

  auto cfg = nva();
  cfg.vips.clear();
  cfg.policies["out"] = prepend_once();
  cfg.policies["accept"] = policy::accept_all();
  cfg.peers[0].export_policy = "out";
  PeerConfig from_spoke;
  from_spoke.address = A("198.18.0.3");
  from_spoke.remote_as = 65030;
  from_spoke.passive = true;
  from_spoke.import_policy = "accept";
  cfg.peers.push_back(from_spoke);
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, cfg);
  Speaker c(loop, *tc, spoke);
  rs.start();
  a.start();
  c.start();
  loop.run_for(2s);
  ASSERT_EQ(rs.received(0).at(P("10.30.0.0/16")).attrs.as_path->to_string(), "65010 65010 65030");
  auto sessions = rs.peer_info(0).established_count;

  auto plain = cfg.policies;
  plain["out"] = policy::accept_all("out");
  EXPECT_EQ(a.update_policies(plain), std::vector<std::string>{cfg.peers[0].name()});
  loop.run_for(100ms);
  EXPECT_EQ(rs.received(0).at(P("10.30.0.0/16")).attrs.as_path->to_string(), "65010 65030");

  auto none = cfg.policies;
  none["out"] = policy::reject_all("out");
  a.update_policies(none);
  loop.run_for(100ms);
  EXPECT_TRUE(rs.received(0).empty()) << "routes the new policy rejects must be withdrawn";
  EXPECT_EQ(rs.peer_info(0).established_count, sessions);
  EXPECT_EQ(rs.peer_state(0), State::established);
  EXPECT_TRUE(a.update_policies(none).empty()) << "an unchanged policy touches no peer";
}

// `export` governs learned routes; VIPs go out by their own settings. A peer with
// `export: reject` -- the usual "leak nothing learned to the route server" -- still gets
// the VIP, with exactly the VIP's prepends, and a policy that would prepend does not touch it.
TEST_F(Pair, VipsAreSentWhateverTheExportPolicySays) {
  for (auto make : {+[] { return policy::reject_all("out"); },
                    +[] {
                      policy::Policy p{"out", {}, false};
                      policy::Term t;
                      t.actions.prepend = {{0, 3}};
                      t.actions.verdict = policy::Actions::Verdict::accept;
                      p.terms.push_back(t);
                      return p;
                    }}) {
    sim::SimLoop l;
    sim::SimNetwork n{l, 1ms};
    auto ha = n.host(A("198.18.0.1"));
    auto hb = n.host(A("198.18.0.2"));
    auto cfg = nva();
    cfg.policies["out"] = make();
    cfg.peers[0].export_policy = "out";
    Speaker rs(l, *hb, route_server());
    Speaker a(l, *ha, cfg);
    rs.start();
    a.start();
    l.run_until(l.now() + 1s);
    auto got = rs.received(0);
    ASSERT_EQ(got.count(P("9.9.9.9/32")), 1u) << cfg.policies["out"].name;
    // nva() gives 9.9.9.9 two prepends: ours once for eBGP plus two.
    EXPECT_EQ(got.at(P("9.9.9.9/32")).attrs.as_path->to_string(), "65010 65010 65010");
  }
}

// Reload of an import policy: routes rejected before were not kept, so the speaker asks
// the peer for them again (ROUTE-REFRESH) instead of resetting the session.
TEST_F(Pair, ImportPolicyChangeAsksForRouteRefresh) {
  auto cfg = route_server();
  policy::Policy only_v6{"in", {}, false};
  policy::Term t;
  t.match.prefixes = {policy::PrefixMatch{P("::/0"), 0, 128}};
  t.actions.verdict = policy::Actions::Verdict::accept;
  only_v6.terms.push_back(t);
  cfg.policies["in"] = only_v6;
  cfg.peers[0].import_policy = "in";
  Speaker rs(loop, *tb, cfg);
  Speaker a(loop, *ta, nva());
  rs.start();
  a.start();
  loop.run_for(1s);
  ASSERT_EQ(rs.received(0).size(), 1u);
  ASSERT_EQ(rs.received(0).count(P("2001:2::9/128")), 1u);
  auto sessions = a.peer_info(0).established_count;

  auto all = cfg.policies;
  all["in"] = policy::accept_all("in");
  EXPECT_EQ(rs.update_policies(all).size(), 1u);
  loop.run_for(100ms);
  EXPECT_EQ(rs.received(0).size(), 2u) << "the refreshed routes pass the new policy";
  EXPECT_EQ(a.peer_info(0).established_count, sessions);
  EXPECT_EQ(a.peer_state(0), State::established);
}

// Regression: a session closed for the max-prefix limit said "administratively stopped".
TEST_F(Pair, MaxPrefixTeardownSaysWhichLimit) {
  auto cfg = route_server();
  cfg.peers[0].max_prefix.limit = 1;
  Speaker rs(loop, *tb, cfg);
  Speaker a(loop, *ta, nva());
  rs.start();
  a.start();
  loop.run_for(1s);
  auto info = rs.peer_info(0);
  EXPECT_NE(info.state, State::established);
  EXPECT_NE(info.last_error.find("over the max-prefix limit of 1 routes"), std::string::npos)
      << info.last_error;
}

// A full table's worth of routes leaves freed heap behind; it is handed back once the
// bulk work has been quiet for a second (once per burst, not per message), and at least
// every ten seconds under endless churn.
TEST_F(Pair, FreedMemoryIsReleasedOncePerBurstAndAlsoUnderChurn) {
  auto cfg = nva();
  cfg.vips.clear();
  for (uint32_t i = 0; i < 12000; ++i)
    cfg.vips.push_back(
        {Prefix(IpAddress::v4(0xC6130000u + i), 32), std::nullopt, 0, {}, {}, std::nullopt});
  cfg.policies["out"] = policy::accept_all("out");
  cfg.peers[0].export_policy = "out";
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, cfg);
  int releases = 0;
  rs.release_memory = [&] { ++releases; };
  rs.start();
  a.start();
  loop.run_for(5s);
  ASSERT_EQ(rs.received(0).size(), 12000u);
  EXPECT_EQ(releases, 1);

  // The whole table again every half second for 15 s: never a quiet second. (The VIPs'
  // own prepend changes: an export policy does not touch VIPs.)
  auto plain = cfg.vips;
  auto prepended = cfg.vips;
  for (auto& v : prepended) v.prepend = 1;
  releases = 0;
  for (int i = 0; i < 30; ++i) {
    a.reconfigure(cfg.peers, i % 2 ? plain : prepended);
    loop.run_for(500ms);
  }
  ASSERT_EQ(rs.received(0).size(), 12000u);
  EXPECT_EQ(rs.received(0).begin()->second.attrs.as_path->length(), 1u);  // the last was plain
  EXPECT_GE(releases, 1);
  EXPECT_LE(releases, 2);
}

// BFD on both sides: a silent neighbour is found after the detection time (3 x 300 ms), not
// the 9 s hold time, and the session comes back once BFD does.
TEST_F(Pair, BfdDownTakesTheSessionDownWithinTheDetectionTime) {
  Speaker rs(loop, *tb, with_bfd(route_server()));
  Speaker a(loop, *ta, with_bfd(nva()));
  rs.start();
  a.start();
  loop.run_for(5s);
  ASSERT_EQ(rs.received(0).size(), 2u);
  ASSERT_TRUE(rs.peer_info(0).bfd);
  ASSERT_EQ(rs.peer_info(0).bfd->info().state, bfd::State::up);
  EXPECT_EQ(rs.peer_info(0).bfd->info().detection_time, 900ms);
  net.partition(A("198.18.0.1"), A("198.18.0.2"));
  loop.run_for(950ms);
  EXPECT_TRUE(rs.received(0).empty()) << "BFD, not the hold timer, must end the session";
  EXPECT_NE(rs.peer_state(0), State::established);
  EXPECT_EQ(rs.peer_info(0).last_error, "BFD down (detection time 900 ms)");
  net.heal(A("198.18.0.1"), A("198.18.0.2"));
  loop.run_for(60s);
  EXPECT_EQ(rs.peer_info(0).bfd->info().state, bfd::State::up);
  EXPECT_EQ(a.peer_state(0), State::established);
  EXPECT_EQ(rs.received(0).size(), 2u);
}

// RFC 5882 §3.2: a neighbour that stops BFD administratively (its shutdown says AdminDown)
// has not failed, and BGP is left to end the session its own way.
TEST_F(Pair, BfdAdminDownFromTheNeighbourKeepsTheSession) {
  Speaker rs(loop, *tb, with_bfd(route_server()));
  Speaker a(loop, *ta, with_bfd(nva()));
  rs.start();
  a.start();
  loop.run_for(5s);
  ASSERT_EQ(rs.peer_info(0).bfd->info().state, bfd::State::up);
  // What a.shutdown() does to BFD first, without the BGP part that follows it.
  const_cast<bfd::Session*>(a.peer_info(0).bfd)->set_admin_down(true);
  loop.run_for(100ms);
  EXPECT_EQ(rs.peer_info(0).bfd->info().state, bfd::State::down);
  EXPECT_EQ(rs.peer_info(0).bfd->info().remote_state, bfd::State::admin_down);
  EXPECT_EQ(rs.peer_state(0), State::established);
  EXPECT_EQ(rs.received(0).size(), 2u);
}

// BFD configured on our side only: the neighbour never answers, BFD stays Down, and BGP
// runs as if BFD were not there (BIRD and FRR do the same).
TEST_F(Pair, BfdWithoutANeighbourDoesNotHoldBgpBack) {
  Speaker rs(loop, *tb, route_server());
  Speaker a(loop, *ta, with_bfd(nva()));
  rs.start();
  a.start();
  loop.run_for(10s);
  EXPECT_EQ(a.peer_info(0).bfd->info().state, bfd::State::down);
  EXPECT_EQ(a.peer_state(0), State::established);
  EXPECT_EQ(rs.received(0).size(), 2u);
}

// An orderly stop says AdminDown before the Cease, so the neighbour's BFD does not report a
// failure (RFC 5882 §3.2): it sees the neighbour's AdminDown, not a detection timeout.
TEST_F(Pair, ShutdownSendsBfdAdminDownFirst) {
  Speaker rs(loop, *tb, with_bfd(route_server()));
  Speaker a(loop, *ta, with_bfd(nva()));
  rs.start();
  a.start();
  loop.run_for(5s);
  ASSERT_EQ(rs.peer_info(0).bfd->info().state, bfd::State::up);
  a.shutdown([] {});
  loop.run_for(100ms);
  const auto& b = rs.peer_info(0).bfd->info();
  EXPECT_EQ(b.remote_state, bfd::State::admin_down);
  EXPECT_EQ(b.local_diag, bfd::Diag::neighbor_down);
  EXPECT_EQ(rs.peer_info(0).last_error.find("BFD"), std::string::npos);
}
