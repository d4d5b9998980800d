// Each step of RFC 4271 §9.1.2 in isolation: two paths equal in everything but the step
// under test, and the step must decide.
#include "rib/decision.hpp"

#include <gtest/gtest.h>

#include "rib/rib_test_util.hpp"

using namespace anycastd;
using namespace anycastd::rib;
using namespace anycastd::rib::test;

namespace {

struct Candidate {
  Path path;
  Neighbour n;
};

Candidate make(bgp::PathAttributes a, const std::string& peer = "198.18.1.1", uint32_t asn = 65001,
               uint32_t router_id = 1) {
  Candidate c;
  c.path.attrs = Attrs::standalone(std::move(a));
  c.n.address = A(peer);
  c.n.asn = asn;
  c.n.router_id = router_id;
  return c;
}

Verdict cmp(const Candidate& a, const Candidate& b, const DecisionConfig& cfg = {}) {
  auto v = compare(a.path, a.n, b.path, b.n, cfg);
  // The comparison must be antisymmetric, whatever step decides.
  auto r = compare(b.path, b.n, a.path, a.n, cfg);
  EXPECT_EQ(v.order, -r.order);
  EXPECT_EQ(v.step, r.step);
  return v;
}

}  // namespace

TEST(Decision, WeightFirst) {
  auto a = make(attrs({1, 2, 3}, "198.18.0.1"));
  auto b = make(attrs({1}, "198.18.0.2"));
  a.path.weight = 10;
  auto v = cmp(a, b);
  EXPECT_LT(v.order, 0);
  EXPECT_EQ(v.step, Step::weight);
}

TEST(Decision, HigherLocalPrefBeatsShorterPath) {
  auto a = attrs({1, 2, 3}, "198.18.0.1");
  a.local_pref = 200;
  auto v = cmp(make(a), make(attrs({1}, "198.18.0.2")));
  EXPECT_LT(v.order, 0);
  EXPECT_EQ(v.step, Step::local_pref);
  // Missing LOCAL_PREF counts as 100.
  a.local_pref = 100;
  EXPECT_NE(cmp(make(a), make(attrs({1}, "198.18.0.2"))).step, Step::local_pref);
}

TEST(Decision, LocallyOriginatedBeatsLearned) {
  auto local = make(attrs({1, 2}, "198.18.0.1"));
  local.n.local = true;
  auto v = cmp(local, make(attrs({1}, "198.18.0.2")));
  EXPECT_LT(v.order, 0);
  EXPECT_EQ(v.step, Step::locally_originated);
}

TEST(Decision, ShorterAsPathWinsAndASetCountsOne) {
  auto v = cmp(make(attrs({1, 2}, "198.18.0.9")), make(attrs({3, 4, 5}, "198.18.0.1")));
  EXPECT_LT(v.order, 0);
  EXPECT_EQ(v.step, Step::as_path_length);
  auto with_set = attrs({1}, "198.18.0.9");
  with_set.as_path->segments.push_back({bgp::kAsSet, {7, 8, 9}});
  EXPECT_NE(cmp(make(with_set), make(attrs({3, 4}, "198.18.0.1"))).step, Step::as_path_length);
}

TEST(Decision, LowerOriginWins) {
  auto a = attrs({1}, "198.18.0.9");
  auto b = attrs({2}, "198.18.0.1");
  b.origin = bgp::kOriginIncomplete;
  auto v = cmp(make(a), make(b));
  EXPECT_LT(v.order, 0);
  EXPECT_EQ(v.step, Step::origin);
}

TEST(Decision, MedComparedOnlyWithinTheSameNeighbouringAs) {
  auto a = attrs({1, 9}, "198.18.0.9");
  auto b = attrs({1, 8}, "198.18.0.1");
  a.med = 10;
  b.med = 20;
  auto v = cmp(make(a), make(b));
  EXPECT_LT(v.order, 0);
  EXPECT_EQ(v.step, Step::med);
  // Different neighbouring AS: MED is skipped and the tie-breaks decide (router id).
  auto c = attrs({2, 8}, "198.18.0.1");
  c.med = 5;
  auto ca = make(a, "198.18.1.1", 65001, 1);
  auto cc = make(c, "198.18.1.2", 65001, 2);
  EXPECT_EQ(cmp(ca, cc).step, Step::router_id);
  DecisionConfig always;
  always.always_compare_med = true;
  auto w = cmp(ca, cc, always);
  EXPECT_GT(w.order, 0);
  EXPECT_EQ(w.step, Step::med);
  // A route server that ignores MED lets the tie-breaks decide even within one AS.
  DecisionConfig ignore;
  ignore.ignore_med = true;
  ignore.always_compare_med = true;
  EXPECT_EQ(cmp(ca, cc, ignore).step, Step::router_id);
  // A missing MED is the best possible value.
  a.med.reset();
  EXPECT_LT(cmp(make(a), make(b)).order, 0);
}

// RFC 4456 §9: between reflected routes the originator's id stands in for the router id,
// then the shorter CLUSTER_LIST wins.
TEST(Decision, ReflectedRoutesCompareOriginatorThenClusterList) {
  auto a = attrs({1}, "198.18.0.1");
  auto b = attrs({1}, "198.18.0.2");
  a.originator_id = 9;  // its reflector's id is lower, the originator's is not
  auto ca = make(a, "198.18.1.1", 65001, 1);
  auto cb = make(b, "198.18.1.2", 65001, 5);
  auto v = cmp(ca, cb);
  EXPECT_GT(v.order, 0);
  EXPECT_EQ(v.step, Step::router_id);
  b.originator_id = 9;
  b.cluster_list = {1, 2};
  a.cluster_list = {1};
  EXPECT_LT(cmp(make(a, "198.18.1.1", 65001, 1), make(b, "198.18.1.2", 65001, 5)).order, 0);
}

TEST(Decision, EbgpBeatsIbgp) {
  auto e = make(attrs({1}, "198.18.0.9"), "198.18.1.9", 65001, 9);
  auto i = make(attrs({1}, "198.18.0.1"), "198.18.1.1", 65010, 1);
  i.n.ibgp = true;
  auto v = cmp(e, i);
  EXPECT_LT(v.order, 0);
  EXPECT_EQ(v.step, Step::ebgp_over_ibgp);
}

TEST(Decision, TieBreaksRunInTheConfiguredOrder) {
  auto older = make(attrs({1}, "198.18.0.9"), "198.18.1.9", 65001, 9);
  auto newer = make(attrs({2}, "198.18.0.1"), "198.18.1.1", 65002, 1);
  older.path.arrival = 1;
  newer.path.arrival = 2;
  DecisionConfig cfg;
  cfg.tie_breaks = {TieBreak::oldest, TieBreak::router_id};
  EXPECT_EQ(cmp(older, newer, cfg).step, Step::oldest);
  EXPECT_LT(cmp(older, newer, cfg).order, 0);
  cfg.tie_breaks = {TieBreak::router_id};
  EXPECT_GT(cmp(older, newer, cfg).order, 0);
  cfg.tie_breaks = {TieBreak::lowest_next_hop};
  EXPECT_EQ(cmp(older, newer, cfg).step, Step::lowest_next_hop);
  EXPECT_GT(cmp(older, newer, cfg).order, 0);
  cfg.tie_breaks = {TieBreak::peer_address};
  EXPECT_EQ(cmp(older, newer, cfg).step, Step::peer_address);
  EXPECT_GT(cmp(older, newer, cfg).order, 0);
  cfg.tie_breaks = {};
  EXPECT_EQ(cmp(older, newer, cfg).order, 0);
}

TEST(Decision, MultipathStopsBeforeTheTieBreaks) {
  auto a = make(attrs({1}, "198.18.0.9"), "198.18.1.9", 65001, 9);
  auto b = make(attrs({2}, "198.18.0.1"), "198.18.1.1", 65002, 1);
  EXPECT_EQ(compare(a.path, a.n, b.path, b.n, {}, true).order, 0);
  EXPECT_NE(compare(a.path, a.n, b.path, b.n, {}, false).order, 0);
}

TEST(Decision, TieBreakNamesRoundTrip) {
  for (auto t :
       {TieBreak::oldest, TieBreak::router_id, TieBreak::lowest_next_hop, TieBreak::peer_address})
    EXPECT_EQ(parse_tie_break(to_string(t)), t);
  EXPECT_FALSE(parse_tie_break("newest"));
}
