#include "policy/policy.hpp"

#include <gtest/gtest.h>

#include "rib/rib_test_util.hpp"

using namespace anycastd;
using namespace anycastd::policy;
using namespace anycastd::rib::test;

namespace {
Context ctx() {
  return Context{65010, A("198.18.0.1"), A("198.18.0.4")};
}
PrefixMatch range(const std::string& p, uint8_t ge, uint8_t le) {
  return {P(p), ge, le};
}
}  // namespace

TEST(PrefixMatch, ExactAndRanges) {
  EXPECT_TRUE(PrefixMatch::exact(P("10.0.0.0/24")).matches(P("10.0.0.0/24")));
  EXPECT_FALSE(PrefixMatch::exact(P("10.0.0.0/24")).matches(P("10.0.0.0/25")));
  auto r = range("10.0.0.0/8", 16, 24);
  EXPECT_TRUE(r.matches(P("10.1.0.0/16")));
  EXPECT_TRUE(r.matches(P("10.1.2.0/24")));
  EXPECT_FALSE(r.matches(P("10.1.2.0/25")));
  EXPECT_FALSE(r.matches(P("10.0.0.0/8")));
  EXPECT_FALSE(r.matches(P("11.1.0.0/16")));
  EXPECT_FALSE(range("::/0", 0, 128).matches(P("10.0.0.0/8")));
}

TEST(Match, EachConditionAlone) {
  auto a = attrs({65515, 65001, 65002}, "198.18.0.4");
  a.communities = {(65010u << 16) | 100};
  a.large_communities = {{65010, 1, 2}};
  auto yes = [&](Match m) { return matches(m, P("10.0.0.0/24"), a, ctx()); };
  Match m;
  EXPECT_TRUE(yes(m));
  m.as_path_contains = {65001};
  EXPECT_TRUE(yes(m));
  m.as_path_contains = {64999};
  EXPECT_FALSE(yes(m));
  m = {};
  m.neighbour_as = 65515;
  EXPECT_TRUE(yes(m));
  m.neighbour_as = 65002;
  EXPECT_FALSE(yes(m));
  m = {};
  m.origin_as = 65002;
  EXPECT_TRUE(yes(m));
  m = {};
  m.as_path_length_min = 3;
  m.as_path_length_max = 3;
  EXPECT_TRUE(yes(m));
  m.as_path_length_max = 2;
  EXPECT_FALSE(yes(m));
  m = {};
  m.communities = {1, (65010u << 16) | 100};
  EXPECT_TRUE(yes(m));
  m.communities = {1};
  EXPECT_FALSE(yes(m));
  m = {};
  m.large_communities = {{65010, 1, 2}};
  EXPECT_TRUE(yes(m));
  m.large_communities = {{65010, 1, 3}};
  EXPECT_FALSE(yes(m));
  m = {};
  m.next_hops = {P("198.18.0.0/24")};
  EXPECT_TRUE(yes(m));
  m.next_hops = {P("198.19.0.0/24")};
  EXPECT_FALSE(yes(m));
  m = {};
  m.peers = {A("198.18.0.4")};
  EXPECT_TRUE(yes(m));
  m.peers = {A("198.18.0.5")};
  EXPECT_FALSE(yes(m));
  m = {};
  m.prefixes = {range("10.0.0.0/8", 24, 24)};
  EXPECT_TRUE(yes(m));
  m.as_path_contains = {1};  // every condition must hold
  EXPECT_FALSE(yes(m));
}

TEST(Actions, PathRewrites) {
  auto a = attrs({65515, 65001, 65515}, "198.18.0.4");
  Actions x;
  x.remove_asns = {65515};
  apply(x, a, ctx());
  EXPECT_EQ(a.as_path->to_string(), "65001");
  a = attrs({65515, 65001}, "198.18.0.4");
  x = {};
  x.replace_asns = {65515};
  apply(x, a, ctx());
  EXPECT_EQ(a.as_path->to_string(), "65010 65001");  // as-override
  x = {};
  x.remove_asns = {65010};
  x.prepend = {{0, 2}, {11111, 1}};
  apply(x, a, ctx());
  EXPECT_EQ(a.as_path->to_string(), "65010 65010 11111 65001");
}

// ExpressRoute's edge toward the customer: "65515 65010 65010" leaves as nothing private,
// while public ASNs (and the 32-bit private range's neighbours) stay.
TEST(Actions, RemovePrivateAsns) {
  auto a = attrs({65515, 64512, 65534, 65535, 133937, 4200000000u, 4199999999u}, "198.18.0.4");
  Actions x;
  x.remove_private_asns = true;
  apply(x, a, ctx());
  EXPECT_EQ(a.as_path->to_string(), "65535 133937 4199999999");
  EXPECT_TRUE(is_private_asn(65010));
  EXPECT_FALSE(is_private_asn(12076));
}

TEST(Actions, CommunitiesAndScalars) {
  auto a = attrs({65515}, "198.18.0.4");
  a.communities = {1, 2};
  a.large_communities = {{1, 1, 1}};
  Actions x;
  x.remove_communities = {1};
  x.add_communities = {3, 2};
  x.add_large_communities = {{65010, 0, 1}};
  x.remove_large_communities = {{1, 1, 1}};
  x.med = 50;
  x.local_pref = 200;
  x.next_hop_self = true;
  apply(x, a, ctx());
  EXPECT_EQ(a.communities, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(a.large_communities, (std::vector<bgp::LargeCommunity>{{65010, 0, 1}}));
  EXPECT_EQ(a.med, 50u);
  EXPECT_EQ(a.local_pref, 200u);
  EXPECT_EQ(a.next_hop, A("198.18.0.1"));
  x = {};
  x.set_communities = std::vector<uint32_t>{7};
  x.next_hop = A("198.18.0.77");
  apply(x, a, ctx());
  EXPECT_EQ(a.communities, (std::vector<uint32_t>{7}));
  EXPECT_EQ(a.next_hop, A("198.18.0.77"));
}

TEST(Policy, TermsRunInOrderUntilAVerdict) {
  Policy p{"from-rs", {}, false};
  Term tag;
  tag.actions.add_communities = {42};
  Term drop_long;
  drop_long.match.prefixes = {range("0.0.0.0/0", 25, 32)};
  drop_long.actions.verdict = Actions::Verdict::reject;
  Term take;
  take.match.as_path_contains = {65515};
  take.actions.verdict = Actions::Verdict::accept;
  p.terms = {tag, drop_long, take};
  auto a = attrs({65515}, "198.18.0.4");
  EXPECT_TRUE(evaluate(p, P("10.0.0.0/24"), a, ctx()));
  EXPECT_EQ(a.communities, std::vector<uint32_t>{42});
  a = attrs({65515}, "198.18.0.4");
  EXPECT_FALSE(evaluate(p, P("10.0.0.0/26"), a, ctx()));
  a = attrs({65001}, "198.18.0.4");
  EXPECT_FALSE(evaluate(p, P("10.0.0.0/24"), a, ctx()));  // falls off: default reject
  p.default_accept = true;
  EXPECT_TRUE(evaluate(p, P("10.0.0.0/24"), a, ctx()));
}
