// The state machine and timer rules of RFC 5880 §6.8, under the simulated clock.
#include "bfd/session.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "runtime/sim/sim_loop.hpp"

namespace anycastd::bfd {
namespace {

using namespace std::chrono_literals;

struct Sent {
  TimePoint at;
  ControlPacket p;
};

// One session whose packets are recorded and whose neighbour the test plays by hand.
struct Solo {
  sim::SimLoop loop;
  std::vector<Sent> sent;
  std::vector<Transition> changes;
  std::unique_ptr<Session> s;
  explicit Solo(Params p = {}) {
    s = std::make_unique<Session>(
        loop, 11, p,
        [this](Bytes b) {
          auto d = decode(b);
          ASSERT_TRUE(d) << d.error();
          sent.push_back({loop.now(), *d});
        },
        [this](const Transition& t) { changes.push_back(t); });
  }
  ControlPacket from_peer(State st, uint32_t tx_us = 300000, uint32_t rx_us = 300000) {
    ControlPacket p;
    p.state = st;
    p.my_disc = 22;
    p.your_disc = st == State::down ? 0 : 11;
    p.desired_min_tx = tx_us;
    p.required_min_rx = rx_us;
    return p;
  }
  void bring_up() {
    s->receive(from_peer(State::down));
    s->receive(from_peer(State::up));
    ASSERT_EQ(s->info().state, State::up);
  }
};

TEST(BfdSession, StartsDownAndSendsOncePerSecondOrFaster) {
  Solo t;
  t.loop.run_for(10s);
  EXPECT_EQ(t.s->info().state, State::down);
  // §6.8.3: at least 1 s while not Up; §6.8.7: jitter takes up to 25% off.
  ASSERT_GE(t.sent.size(), 10u);
  ASSERT_LE(t.sent.size(), 14u);
  for (size_t i = 1; i < t.sent.size(); ++i) {
    auto gap = t.sent[i].at - t.sent[i - 1].at;
    EXPECT_GE(gap, 750ms);
    EXPECT_LE(gap, 1000ms);
  }
  auto& p = t.sent.back().p;
  EXPECT_EQ(p.state, State::down);
  EXPECT_EQ(p.your_disc, 0u);
  EXPECT_EQ(p.my_disc, 11u);
  EXPECT_EQ(p.desired_min_tx, 1000000u);
  EXPECT_EQ(p.required_min_rx, 300000u);
  EXPECT_EQ(p.detect_mult, 3);
}

TEST(BfdSession, DownGoesToInitOnDownAndToUpOnInit) {
  Solo t;
  t.s->receive(t.from_peer(State::down));
  EXPECT_EQ(t.s->info().state, State::init);
  EXPECT_EQ(t.s->info().remote_disc, 22u);
  EXPECT_EQ(t.sent.back().p.state, State::init);  // sent at once, not at the next tick
  EXPECT_EQ(t.sent.back().p.your_disc, 22u);
  t.s->receive(t.from_peer(State::up));
  EXPECT_EQ(t.s->info().state, State::up);
  ASSERT_EQ(t.changes.size(), 2u);
  EXPECT_EQ(t.changes[1].from, State::init);
  EXPECT_EQ(t.changes[1].to, State::up);

  Solo u;
  u.s->receive(u.from_peer(State::init));
  EXPECT_EQ(u.s->info().state, State::up);
}

TEST(BfdSession, DownIgnoresUpAndInitIgnoresDown) {
  Solo t;
  t.s->receive(t.from_peer(State::up));
  EXPECT_EQ(t.s->info().state, State::down);
  t.s->receive(t.from_peer(State::down));
  t.s->receive(t.from_peer(State::down));
  EXPECT_EQ(t.s->info().state, State::init);
}

TEST(BfdSession, UpGoesDownWhenTheNeighbourSaysDown) {
  Solo t;
  t.bring_up();
  t.s->receive(t.from_peer(State::down));
  EXPECT_EQ(t.s->info().state, State::down);
  EXPECT_EQ(t.s->info().local_diag, Diag::neighbor_down);
  EXPECT_FALSE(t.changes.back().remote_admin_down);
  EXPECT_EQ(t.sent.back().p.diag, Diag::neighbor_down);
}

TEST(BfdSession, NeighbourAdminDownIsFlaggedForBgp) {
  Solo t;
  t.bring_up();
  t.s->receive(t.from_peer(State::admin_down));
  EXPECT_EQ(t.s->info().state, State::down);
  EXPECT_EQ(t.changes.back().diag, Diag::neighbor_down);
  EXPECT_TRUE(t.changes.back().remote_admin_down);
  // Already Down: another AdminDown changes nothing.
  auto n = t.changes.size();
  t.s->receive(t.from_peer(State::admin_down));
  EXPECT_EQ(t.changes.size(), n);
}

TEST(BfdSession, UpPollsToLeaveTheSlowRateAndAppliesItAtOnce) {
  Solo t;
  t.bring_up();
  auto& p = t.sent.back().p;
  EXPECT_TRUE(p.poll);
  EXPECT_EQ(p.desired_min_tx, 300000u);
  // Lowering our own tx needs no consent (§6.8.3).
  EXPECT_EQ(t.s->info().tx_interval, 300ms);
  EXPECT_TRUE(t.s->info().polling);
  t.loop.run_for(200ms);  // still within the detection time, so still Up
  auto polls = t.sent.size();
  t.loop.run_for(600ms);  // the Poll repeats on every packet until the Final
  EXPECT_GT(t.sent.size(), polls);
  EXPECT_TRUE(t.sent.back().p.poll);
  auto fin = t.from_peer(State::up);
  fin.final = true;
  t.s->receive(fin);
  EXPECT_FALSE(t.s->info().polling);
  t.loop.run_for(300ms);
  EXPECT_FALSE(t.sent.back().p.poll);
}

TEST(BfdSession, AnswersAPollWithAFinalAtOnce) {
  Solo t;
  t.bring_up();
  auto n = t.sent.size();
  auto poll = t.from_peer(State::up);
  poll.poll = true;
  t.s->receive(poll);
  ASSERT_EQ(t.sent.size(), n + 1);
  EXPECT_TRUE(t.sent.back().p.final);
  EXPECT_FALSE(t.sent.back().p.poll);
  EXPECT_EQ(t.sent.back().at, t.loop.now());
}

TEST(BfdSession, DetectionTimeIsTheNeighboursMultiplierTimesTheSlowerInterval) {
  Solo t;
  t.bring_up();
  EXPECT_EQ(t.s->info().detection_time, 900ms);
  auto slow = t.from_peer(State::up, 500000);
  slow.detect_mult = 4;
  t.s->receive(slow);
  EXPECT_EQ(t.s->info().detection_time, 2000ms);  // 4 x max(300 ms ours, 500 ms theirs)
}

TEST(BfdSession, GoesDownOneDetectionTimeAfterTheLastPacket) {
  Solo t;
  t.bring_up();
  auto fin = t.from_peer(State::up);
  fin.final = true;
  t.loop.run_for(100ms);
  t.s->receive(fin);
  auto last = t.loop.now();
  t.loop.run_for(899ms);
  EXPECT_EQ(t.s->info().state, State::up);
  t.loop.run_for(1ms);
  EXPECT_EQ(t.s->info().state, State::down);
  EXPECT_EQ(t.loop.now() - last, 900ms);
  EXPECT_EQ(t.s->info().local_diag, Diag::detection_expired);
  EXPECT_EQ(t.s->info().remote_disc, 0u);  // §6.8.1
  EXPECT_EQ(t.sent.back().p.your_disc, 0u);
  EXPECT_EQ(t.sent.back().p.desired_min_tx, 1000000u);  // back to the slow rate
}

TEST(BfdSession, InitAlsoTimesOut) {
  Solo t;
  t.s->receive(t.from_peer(State::down));
  ASSERT_EQ(t.s->info().state, State::init);
  t.loop.run_for(3s);
  EXPECT_EQ(t.s->info().state, State::down);
  EXPECT_EQ(t.changes.back().diag, Diag::detection_expired);
}

TEST(BfdSession, UpSendsAtTheNegotiatedRateWithJitter) {
  Solo t;
  t.bring_up();
  auto fin = t.from_peer(State::up, 300000, 500000);  // they accept no faster than 500 ms
  fin.final = true;
  t.s->receive(fin);
  EXPECT_EQ(t.s->info().tx_interval, 500ms);
  for (int i = 0; i < 20; ++i) {
    t.loop.run_for(250ms);
    t.s->receive(t.from_peer(State::up, 300000, 500000));
  }
  size_t start = t.sent.size() - 8;
  for (size_t i = start + 1; i < t.sent.size(); ++i) {
    auto gap = t.sent[i].at - t.sent[i - 1].at;
    EXPECT_GE(gap, 375ms);
    EXPECT_LE(gap, 500ms);
  }
}

TEST(BfdSession, MultiplierOneJittersAtLeastTenPercent) {
  Params p;
  p.multiplier = 1;
  Solo t(p);
  t.loop.run_for(30s);
  for (size_t i = 1; i < t.sent.size(); ++i) {
    auto gap = t.sent[i].at - t.sent[i - 1].at;
    EXPECT_GE(gap, 750ms);
    EXPECT_LE(gap, 900ms);
  }
}

TEST(BfdSession, NoPeriodicPacketsWhenTheNeighbourWantsNone) {
  Solo t;
  t.bring_up();
  auto quiet = t.from_peer(State::up, 300000, 0);
  quiet.final = true;
  t.s->receive(quiet);
  t.loop.run_for(310ms);  // the tick already armed may still go
  auto n = t.sent.size();
  t.s->receive(quiet);
  t.loop.run_for(250ms);
  t.s->receive(quiet);
  t.loop.run_for(250ms);
  EXPECT_EQ(t.sent.size(), n);
  // But a Poll is still answered.
  auto poll = t.from_peer(State::up, 300000, 0);
  poll.poll = true;
  t.s->receive(poll);
  EXPECT_EQ(t.sent.size(), n + 1);
  EXPECT_TRUE(t.sent.back().p.final);
}

TEST(BfdSession, RaisingTxWaitsForTheFinal) {
  Solo t;
  t.bring_up();
  auto fin = t.from_peer(State::up);
  fin.final = true;
  t.s->receive(fin);
  t.s->set_params({.min_tx = 1s, .min_rx = 300ms, .multiplier = 3});
  EXPECT_TRUE(t.s->info().polling);
  EXPECT_EQ(t.sent.back().p.desired_min_tx, 1000000u);
  EXPECT_TRUE(t.sent.back().p.poll);
  // §6.8.3: the neighbour still expects 300 ms until it has answered.
  EXPECT_EQ(t.s->info().tx_interval, 300ms);
  t.s->receive(fin);
  EXPECT_EQ(t.s->info().tx_interval, 1s);
}

TEST(BfdSession, LoweringRxKeepsTheOldDetectionTimeUntilTheFinal) {
  Solo t;
  t.bring_up();
  auto fin = t.from_peer(State::up, 100000);
  fin.final = true;
  t.s->receive(fin);
  EXPECT_EQ(t.s->info().detection_time, 900ms);
  t.s->set_params({.min_tx = 300ms, .min_rx = 100ms, .multiplier = 3});
  EXPECT_EQ(t.sent.back().p.required_min_rx, 100000u);
  t.s->receive(t.from_peer(State::up, 100000));
  EXPECT_EQ(t.s->info().detection_time, 900ms);
  t.s->receive(fin);
  EXPECT_EQ(t.s->info().detection_time, 300ms);
}

TEST(BfdSession, LocalAdminDownIgnoresTheNeighbourAndSaysSo) {
  Solo t;
  t.bring_up();
  t.s->set_admin_down(true);
  EXPECT_EQ(t.s->info().state, State::admin_down);
  EXPECT_EQ(t.sent.back().p.state, State::admin_down);
  EXPECT_EQ(t.sent.back().p.diag, Diag::admin_down);
  t.s->receive(t.from_peer(State::down));
  t.loop.run_for(5s);
  EXPECT_EQ(t.s->info().state, State::admin_down);
  t.s->set_admin_down(false);
  EXPECT_EQ(t.s->info().state, State::down);
  t.s->receive(t.from_peer(State::down));
  EXPECT_EQ(t.s->info().state, State::init);
}

// Two sessions over a link the test can cut: the whole exchange, both sides.
struct Pair {
  sim::SimLoop loop;
  bool link = true;
  std::unique_ptr<Session> a, b;
  std::vector<std::pair<TimePoint, Transition>> a_changes;
  Pair(Params pa = {}, Params pb = {}) {
    auto wire = [this](std::unique_ptr<Session>* to) {
      return [this, to](Bytes bytes) {
        if (!link) return;
        loop.schedule(1ms, [to, bytes] {
          if (auto d = decode(bytes); d && *to) (*to)->receive(*d);
        });
      };
    };
    a = std::make_unique<Session>(loop, 1, pa, wire(&b), [this](const Transition& t) {
      a_changes.push_back({loop.now(), t});
    });
    b = std::make_unique<Session>(loop, 2, pb, wire(&a), nullptr, 7);
  }
};

TEST(BfdPair, ComesUpNegotiatesAndDetectsACutLink) {
  Pair t;
  t.loop.run_for(3s);
  ASSERT_EQ(t.a->info().state, State::up);
  ASSERT_EQ(t.b->info().state, State::up);
  EXPECT_FALSE(t.a->info().polling);
  EXPECT_EQ(t.a->info().tx_interval, 300ms);
  EXPECT_EQ(t.a->info().detection_time, 900ms);
  EXPECT_EQ(t.a->info().remote_disc, 2u);
  t.loop.run_for(60s);  // steady: no flap in a minute of 300 ms packets
  EXPECT_EQ(t.a->info().transitions, 2u);
  t.link = false;
  auto cut = t.loop.now();
  t.loop.run_for(2s);
  EXPECT_EQ(t.a->info().state, State::down);
  auto down_at = t.a_changes.back().first;
  EXPECT_LE(down_at - cut, 900ms);
  EXPECT_GE(down_at - cut, 900ms - 300ms);
  t.link = true;
  t.loop.run_for(5s);
  EXPECT_EQ(t.a->info().state, State::up);
}

TEST(BfdPair, DifferentIntervalsNegotiateTheSlowerOne) {
  Pair t({.min_tx = 100ms, .min_rx = 100ms, .multiplier = 3},
         {.min_tx = 200ms, .min_rx = 500ms, .multiplier = 5});
  t.loop.run_for(5s);
  ASSERT_EQ(t.a->info().state, State::up);
  EXPECT_EQ(t.a->info().tx_interval, 500ms);      // b accepts no faster
  EXPECT_EQ(t.a->info().detection_time, 1000ms);  // 5 x max(100, 200)
  EXPECT_EQ(t.b->info().tx_interval, 200ms);
  EXPECT_EQ(t.b->info().detection_time, 1500ms);  // 3 x max(500, 100)
}

TEST(BfdPair, DestroyingASessionCancelsItsTimers) {
  Pair t;
  t.loop.run_for(3s);
  t.b.reset();
  t.loop.run_for(5s);  // a's packets to b are dropped; no timer of b runs on freed memory
  EXPECT_EQ(t.a->info().state, State::down);
}

}  // namespace
}  // namespace anycastd::bfd
