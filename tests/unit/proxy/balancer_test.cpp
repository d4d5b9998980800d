#include "proxy/balancer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "proxy/maglev.hpp"

using namespace anycastd;
using namespace anycastd::proxy;

namespace {

std::vector<BackendView> backends(std::vector<uint32_t> weights) {
  std::vector<BackendView> v;
  for (size_t i = 0; i < weights.size(); ++i)
    v.push_back({"10.13.76." + std::to_string(10 + i) + ":80", weights[i], true});
  return v;
}

FlowKey flow(uint32_t client, uint16_t port = 40000) {
  return {IpAddress::v4(0xac100000 + client), port, *IpAddress::parse("9.9.9.9"), 80, 6};
}

std::string sequence(Balancer& b, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    auto p = b.pick(flow(1));
    s += p ? static_cast<char>('a' + *p) : '-';
  }
  return s;
}

}  // namespace

TEST(RoundRobin, SmoothWeightedOrder) {
  auto v = backends({5, 1, 1});
  auto b = make_balancer(Balance::round_robin, HashOn::client, v);
  // nginx's documented sequence for weights 5,1,1: the heavy backend is interleaved.
  EXPECT_EQ(sequence(*b, 14), "aabacaaaabacaa");
}

TEST(RoundRobin, SpreadsByWeightAndSkipsUnhealthy) {
  auto v = backends({3, 1, 2});
  auto b = make_balancer(Balance::round_robin, HashOn::client, v);
  std::map<char, int> n;
  for (char c : sequence(*b, 600)) ++n[c];
  EXPECT_EQ(n['a'], 300);
  EXPECT_EQ(n['b'], 100);
  EXPECT_EQ(n['c'], 200);
  v[0].healthy = false;
  b->update(v);
  n.clear();
  for (char c : sequence(*b, 300)) ++n[c];
  EXPECT_EQ(n['a'], 0);
  EXPECT_EQ(n['b'], 100);
  EXPECT_EQ(n['c'], 200);
}

TEST(RoundRobin, NoneHealthyOrZeroWeightPicksNothing) {
  auto v = backends({1, 0});
  v[0].healthy = false;
  auto b = make_balancer(Balance::round_robin, HashOn::client, v);
  EXPECT_EQ(sequence(*b, 3), "---");
}

TEST(LeastConn, PrefersFewestConnectionsPerWeight) {
  auto v = backends({1, 1, 2});
  auto b = make_balancer(Balance::least_conn, HashOn::client, v);
  // Empty: ties rotate, so the first three connections land on three backends.
  std::vector<uint32_t> first;
  for (int i = 0; i < 3; ++i) {
    first.push_back(*b->pick(flow(1)));
    b->opened(first.back());
  }
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<uint32_t>{0, 1, 2}));
  // Each holds one; c has weight 2, so it is the least loaded per unit of weight.
  EXPECT_EQ(*b->pick(flow(1)), 2u);
  b->opened(2);
  b->closed(0);
  EXPECT_EQ(*b->pick(flow(1)), 0u);
}

TEST(LeastConn, KeepsCountsAcrossHealthChanges) {
  auto v = backends({1, 1});
  auto b = make_balancer(Balance::least_conn, HashOn::client, v);
  for (int i = 0; i < 5; ++i) b->opened(0);
  v[1].healthy = false;
  b->update(v);
  EXPECT_EQ(*b->pick(flow(1)), 0u);
  v[1].healthy = true;
  b->update(v);
  EXPECT_EQ(*b->pick(flow(1)), 1u);  // a still holds 5 open connections
}

// Two forwarding threads, each with its own balancer over the service-wide counts: the
// connections one thread holds steer the other's picks.
TEST(LeastConn, ThreadsSharingCountsBalanceTogether) {
  auto v = backends({1, 1});
  std::vector<uint64_t> open(2, 0);
  auto counts = [&open](uint32_t b) { return open[b]; };
  auto a = make_balancer(Balance::least_conn, HashOn::client, v, nullptr, counts);
  auto b = make_balancer(Balance::least_conn, HashOn::client, v, nullptr, counts);
  for (int i = 0; i < 6; ++i) {
    auto& thread = i % 2 ? *b : *a;
    ++open[*thread.pick(flow(1))];
  }
  EXPECT_EQ(open, (std::vector<uint64_t>{3, 3}));
  open[0] = 5;  // long connections on thread a's side
  EXPECT_EQ(*b->pick(flow(1)), 1u);
  EXPECT_EQ(*b->pick(flow(1)), 1u) << "picked by its own cursor, not by the shared counts";
}

TEST(Maglev, TableNeedsPrimeSize) {
  EXPECT_TRUE(is_prime(MaglevTable::kDefaultSize));
  EXPECT_TRUE(is_prime(251));
  EXPECT_FALSE(is_prime(65536));
}

TEST(Maglev, EqualBackendsGetNearlyEqualShares) {
  // The paper's balance property: with M >> N, every backend owns about M/N slots.
  for (uint32_t n : {2u, 3u, 10u, 50u}) {
    auto v = backends(std::vector<uint32_t>(n, 1));
    MaglevTable t(v);
    std::vector<uint32_t> owned(n, 0);
    for (auto s : t.slots()) ++owned[s];
    double fair = double(t.size()) / n;
    for (auto o : owned) EXPECT_NEAR(o / fair, 1.0, 0.03) << n << " backends";
  }
}

TEST(Maglev, WeightsSetShares) {
  auto v = backends({3, 1});
  MaglevTable t(v, 65537);
  uint32_t a = 0;
  for (auto s : t.slots()) a += s == 0;
  EXPECT_NEAR(double(a) / t.size(), 0.75, 0.01);
}

TEST(Maglev, RemovingOneBackendMovesFewOtherSlots) {
  // The paper's disruption property: the removed backend's slots must move; of the rest,
  // only a small fraction does.
  auto v = backends(std::vector<uint32_t>(10, 1));
  MaglevTable before(v);
  v[3].healthy = false;
  MaglevTable after(v);
  uint32_t moved = 0, others = 0;
  for (uint32_t s = 0; s < before.size(); ++s) {
    EXPECT_NE(after.slots()[s], 3u);
    if (before.slots()[s] == 3) continue;
    ++others;
    moved += before.slots()[s] != after.slots()[s];
  }
  EXPECT_LT(double(moved) / others, 0.03);
  // And the table is a pure function of the healthy set: restoring gives the same table.
  v[3].healthy = true;
  EXPECT_EQ(MaglevTable(v).slots(), before.slots());
}

TEST(Maglev, FlowsStayOnTheirBackendWhenAnotherComes) {
  auto v = backends({1, 1, 1, 1});
  v[3].healthy = false;
  auto b = make_balancer(Balance::maglev, HashOn::client, v);
  std::vector<uint32_t> first;
  for (uint32_t c = 0; c < 2000; ++c) first.push_back(*b->pick(flow(c)));
  v[3].healthy = true;
  b->update(v);
  int kept = 0, to_new = 0;
  for (uint32_t c = 0; c < 2000; ++c) {
    auto now = *b->pick(flow(c));
    kept += now == first[c];
    to_new += now == 3;
  }
  // About a quarter moves to the new backend, and (nearly) nothing else moves.
  EXPECT_NEAR(to_new / 2000.0, 0.25, 0.04);
  EXPECT_GE(kept + to_new, 1960);
}

TEST(Maglev, ClientHashIgnoresPortsFiveTupleDoesNot) {
  auto v = backends(std::vector<uint32_t>(8, 1));
  auto by_client = make_balancer(Balance::maglev, HashOn::client, v);
  auto by_flow = make_balancer(Balance::maglev, HashOn::five_tuple, v);
  std::set<uint32_t> client_picks, flow_picks;
  for (uint16_t port = 40000; port < 40064; ++port) {
    client_picks.insert(*by_client->pick(flow(7, port)));
    flow_picks.insert(*by_flow->pick(flow(7, port)));
  }
  EXPECT_EQ(client_picks.size(), 1u);
  EXPECT_GT(flow_picks.size(), 4u);
}

TEST(Maglev, NoneHealthyPicksNothing) {
  auto v = backends({1, 1});
  v[0].healthy = v[1].healthy = false;
  auto b = make_balancer(Balance::maglev, HashOn::client, v);
  EXPECT_FALSE(b->pick(flow(1)));
}
