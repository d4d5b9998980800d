#include "health/vip_health.hpp"

#include <gtest/gtest.h>

#include "health/check_state.hpp"

using namespace anycastd;
using namespace anycastd::health;
using namespace std::chrono_literals;

namespace {
TimePoint at(Duration d) {
  return TimePoint{} + d;
}
CheckResult ok() {
  return CheckResult::success(1ms);
}
CheckResult bad() {
  return CheckResult::fail(Failure::refused, "connection refused");
}
}  // namespace

TEST(CheckState, StartsDownRisesAfterRiseSuccessesFallsAfterFallFailures) {
  CheckState s(2, 3);
  EXPECT_FALSE(s.record(ok(), at(0s)));
  EXPECT_FALSE(s.up());
  EXPECT_TRUE(s.record(ok(), at(1s)));
  EXPECT_TRUE(s.up());
  EXPECT_FALSE(s.record(bad(), at(2s)));
  EXPECT_FALSE(s.record(bad(), at(3s)));
  EXPECT_FALSE(s.record(ok(), at(4s)));  // a success in between resets the failure count
  EXPECT_FALSE(s.record(bad(), at(5s)));
  EXPECT_FALSE(s.record(bad(), at(6s)));
  EXPECT_TRUE(s.record(bad(), at(7s)));
  EXPECT_FALSE(s.up());
  EXPECT_EQ(*s.since(), at(7s));
  EXPECT_EQ(s.last()->describe(), "refused: connection refused");
}

struct RuleCase {
  VipHealthConfig::Rule rule;
  uint32_t min;
  size_t healthy, total;
  bool holds;
};

// Names the case in test listings instead of dumping its bytes, padding included.
void PrintTo(const RuleCase& c, std::ostream* os) {
  *os << "rule " << static_cast<int>(c.rule) << " min " << c.min << ": " << c.healthy << "/"
      << c.total << " healthy";
}

class Rules : public ::testing::TestWithParam<RuleCase> {};

TEST_P(Rules, DecideWhetherTheVipIsAnnounced) {
  VipHealthConfig c;
  c.rule = GetParam().rule;
  c.min = GetParam().min;
  VipHealth v(c);
  v.update(GetParam().healthy, GetParam().total, at(0s));
  EXPECT_EQ(v.announcement().announce, GetParam().holds);
  EXPECT_EQ(v.status(), GetParam().holds ? VipStatus::announced : VipStatus::withdrawn);
}

using R = VipHealthConfig::Rule;
INSTANTIATE_TEST_SUITE_P(
    All, Rules,
    ::testing::Values(RuleCase{R::any, 1, 1, 3, true}, RuleCase{R::any, 1, 0, 3, false},
                      RuleCase{R::all, 1, 3, 3, true}, RuleCase{R::all, 1, 2, 3, false},
                      RuleCase{R::min, 2, 2, 3, true}, RuleCase{R::min, 2, 1, 3, false},
                      RuleCase{R::min_percent, 50, 2, 4, true},
                      RuleCase{R::min_percent, 50, 1, 3, false},
                      RuleCase{R::min_percent, 0, 0, 3, false}));

TEST(VipHealth, NothingIsAnnouncedBeforeTheFirstEvaluation) {
  VipHealth v({});
  EXPECT_FALSE(v.announcement().announce);
  EXPECT_EQ(v.status(), VipStatus::withdrawn);
}

TEST(VipHealth, DegradeKeepsAnnouncingWithPrependCommunityAndMed) {
  VipHealthConfig c;
  c.action = VipHealthConfig::Action::degrade;
  c.degrade = {4, {0xFDE80064}, 500};
  VipHealth v(c);
  v.update(0, 2, at(0s));
  EXPECT_EQ(v.status(), VipStatus::degraded);
  EXPECT_EQ(v.announcement(), (VipAnnouncement{true, 4, {0xFDE80064}, 500}));
  EXPECT_EQ(v.reason(), "0 of 2 healthy");
  v.update(1, 2, at(5s));
  EXPECT_EQ(v.announcement(), (VipAnnouncement{true, 0, {}, std::nullopt}));
  EXPECT_EQ(v.since(), at(5s));
}

TEST(VipHealth, FlappingIsHeldDownAndTheHoldDoublesUpToTheMaximum) {
  VipHealthConfig c;
  c.damping = {3, 60s, 10s, 25s};
  VipHealth v(c);
  Duration t = 0s;
  size_t healthy = 0;
  auto flap = [&](int n) {
    for (int i = 0; i < n; ++i) {
      t += 1s;
      healthy = 1 - healthy;
      v.update(healthy, 1, at(t));
    }
  };
  v.update(0, 1, at(t));
  flap(3);  // three changes: at the limit, not over it
  EXPECT_NE(v.status(), VipStatus::held_down);
  flap(1);  // the fourth change within 60 s
  EXPECT_EQ(v.status(), VipStatus::held_down);
  EXPECT_FALSE(v.announcement().announce);
  EXPECT_EQ(*v.next_deadline(), at(t + 10s));
  v.update(1, 1, at(t + 1s));  // healthy, but still held
  EXPECT_EQ(v.status(), VipStatus::held_down);
  t += 10s;
  v.tick(at(t));
  EXPECT_EQ(v.status(), VipStatus::announced);  // follows the rule again
  flap(4);
  EXPECT_EQ(*v.held_until(), at(t + 20s));  // doubled
  t += 20s;
  v.tick(at(t));
  flap(4);
  EXPECT_EQ(*v.held_until(), at(t + 25s));  // capped at max-hold
}

TEST(VipHealth, DrainAnnouncesGracefulShutdownThenWithdrawsAndUndrainRestores) {
  VipHealthConfig c;
  c.drain_time = 8s;
  c.drain_prepend = 2;
  VipHealth v(c);
  v.update(1, 1, at(0s));
  v.drain(at(1s));
  EXPECT_EQ(v.status(), VipStatus::draining);
  EXPECT_EQ(v.announcement(), (VipAnnouncement{true, 2, {kGracefulShutdown}, std::nullopt}));
  EXPECT_EQ(*v.next_deadline(), at(9s));
  v.tick(at(9s));
  EXPECT_EQ(v.status(), VipStatus::drained);
  EXPECT_FALSE(v.announcement().announce);
  v.undrain(at(20s));
  EXPECT_EQ(v.status(), VipStatus::announced);
}

TEST(VipHealth, DrainingAWithdrawnVipNeverAnnouncesIt) {
  VipHealth v({});
  v.update(0, 1, at(0s));
  v.drain(at(1s));
  EXPECT_EQ(v.status(), VipStatus::drained);
  EXPECT_FALSE(v.announcement().announce);
}
