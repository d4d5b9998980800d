// The address-translation program's balancing table, laid out in user space: with maglev it
// is Maglev's table, so a backend that goes or comes moves about 1/N of the flows (before,
// slots interleaved by round robin and read by hash moved most of them).
#include "proxy/nat_slots.hpp"

#include <gtest/gtest.h>

#include <map>

#include "proxy/bpf/nat_shared.h"

using namespace anycastd::proxy;

namespace {

std::vector<BackendView> views(int n) {
  std::vector<BackendView> v;
  for (int i = 0; i < n; ++i) v.push_back({"198.18.0." + std::to_string(10 + i) + ":80", 1, true});
  return v;
}

ServiceConfig service(Balance b) {
  ServiceConfig s;
  s.name = "web";
  s.balance = b;
  s.forwarding = Forwarding::nat;
  return s;
}

// The share of slots whose backend changed between two tables.
double moved(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return static_cast<double>(n) / static_cast<double>(a.size());
}

}  // namespace

TEST(NatSlots, MaglevMovesAboutOneNthWhenABackendGoesOrComes) {
  const auto cfg = service(Balance::maglev);
  for (int n : {4, 8, 16}) {
    auto all = views(n);
    auto before = nat_slots(cfg, all);
    ASSERT_EQ(before.size(), size_t{NAT_SLOTS});
    all[1].healthy = false;
    auto after = nat_slots(cfg, all);
    ASSERT_EQ(after.size(), size_t{NAT_SLOTS});
    for (auto b : after) EXPECT_NE(b, 1) << "no slot left for the unhealthy backend";
    // The slots the gone backend owned must move; few others may (Maglev's bound is loose,
    // a few percent at this table size).
    const double share = 1.0 / n;
    EXPECT_GE(moved(before, after), share * 0.9) << n << " backends";
    EXPECT_LE(moved(before, after), share * 1.25) << n << " backends";
    // And it comes back: the table is the same as before, so flows return where they were.
    all[1].healthy = true;
    EXPECT_EQ(nat_slots(cfg, all), before);
  }
}

TEST(NatSlots, MaglevHonoursWeightsAndTwoNvasAgree) {
  const auto cfg = service(Balance::maglev);
  auto v = views(3);
  v[0].weight = 2;
  auto slots = nat_slots(cfg, v);
  std::map<int, size_t> owned;
  for (auto b : slots) ++owned[b];
  EXPECT_NEAR(static_cast<double>(owned[0]) / NAT_SLOTS, 0.5, 0.03);
  EXPECT_NEAR(static_cast<double>(owned[1]) / NAT_SLOTS, 0.25, 0.03);
  // Another NVA with the same backends (the same names) computes the same table.
  EXPECT_EQ(nat_slots(cfg, v), slots);
}

TEST(NatSlots, RoundRobinInterleavesByWeightAndNoneUsableIsEmpty) {
  const auto cfg = service(Balance::round_robin);
  auto v = views(2);
  v[1].weight = 3;
  auto slots = nat_slots(cfg, v);
  ASSERT_EQ(slots.size(), size_t{NAT_SLOTS});
  size_t ones = 0;
  for (size_t i = 0; i < 8; ++i) ones += slots[i] == 1;
  EXPECT_EQ(ones, 6u) << "3:1, interleaved from the first slots on";
  for (auto& b : v) b.healthy = false;
  EXPECT_TRUE(nat_slots(cfg, v).empty());
  EXPECT_TRUE(nat_slots(service(Balance::maglev), v).empty());
}
