#include "health/latency_histogram.hpp"

#include <gtest/gtest.h>

#include "health/check_state.hpp"

using namespace anycastd;
using namespace anycastd::health;
using namespace std::chrono_literals;

TEST(LatencyHistogram, BucketsAreCumulativeWithTheBoundInclusive) {
  LatencyHistogram h;
  h.add(500us);  // <= 1 ms
  h.add(1ms);    // on the bound: still the 1 ms bucket
  h.add(30ms);   // <= 50 ms
  h.add(10s);    // beyond every bound: +Inf only
  EXPECT_EQ(h.at_most(0), 2u);
  EXPECT_EQ(h.at_most(4), 2u);  // 25 ms
  EXPECT_EQ(h.at_most(5), 3u);  // 50 ms
  EXPECT_EQ(h.at_most(LatencyHistogram::kBounds.size() - 1), 3u);
  EXPECT_EQ(h.at_most(LatencyHistogram::kBounds.size()), 4u);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_NEAR(h.sum(), 10.0315, 1e-9);
}

TEST(CheckState, CountsResultsByKindAndKeepsTimeoutsOutOfTheLatencies) {
  CheckState s(1, 1);
  TimePoint t{};
  s.record(CheckResult::success(2ms), t);
  s.record(CheckResult::fail(Failure::refused, "refused", 1ms), t);
  s.record(CheckResult::fail(Failure::timeout, "", 2s), t);
  EXPECT_EQ(s.results(Failure::none), 1u);
  EXPECT_EQ(s.results(Failure::refused), 1u);
  EXPECT_EQ(s.results(Failure::timeout), 1u);
  EXPECT_EQ(s.latency().count(), 2u);
}
