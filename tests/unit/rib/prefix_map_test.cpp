// PrefixMap and PathList against the standard containers they replace: the same answers
// through any sequence of inserts and erases, including the moves their layouts make.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>

#include "rib/path_list.hpp"
#include "rib/prefix_map.hpp"

using namespace anycastd;
using namespace anycastd::rib;

namespace {

Prefix v4(uint32_t addr, uint8_t len) {
  return Prefix(IpAddress::v4(addr), len);
}

void expect_same(const PrefixMap<int>& m, const std::map<Prefix, int>& ref) {
  ASSERT_EQ(m.size(), ref.size());
  std::map<Prefix, int> seen;
  for (const auto& [p, v] : m) EXPECT_TRUE(seen.emplace(p, v).second) << p.to_string();
  EXPECT_EQ(seen, ref);
  for (const auto& [p, v] : ref) {
    auto it = m.find(p);
    ASSERT_NE(it, m.end()) << p.to_string();
    EXPECT_EQ(it->second, v);
  }
}

}  // namespace

// Random inserts, overwrites and erases over a small key space, so probe runs collide,
// wrap around the index and get shifted back by erases; checked against std::map.
TEST(PrefixMap, AgreesWithStdMapThroughRandomInsertsAndErases) {
  std::mt19937 rng(7);
  PrefixMap<int> m;
  std::map<Prefix, int> ref;
  for (int step = 0; step < 20000; ++step) {
    // A quarter IPv6, whose keys live in a side table with its own reuse of holes.
    Prefix p = v4(0x0A000000u + (rng() % 3000) * 256u, rng() % 2 ? 24 : 16);
    if (rng() % 4 == 0) {
      std::array<uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8};
      uint32_t n = rng() % 1000;
      a[4] = static_cast<uint8_t>(n >> 8);
      a[5] = static_cast<uint8_t>(n);
      p = Prefix(IpAddress::v6(a), rng() % 2 ? 48 : 64);
    }
    if (rng() % 3 == 0) {
      EXPECT_EQ(m.erase(p), ref.erase(p)) << p.to_string();
    } else {
      int v = static_cast<int>(rng());
      m[p] = v;
      ref[p] = v;
    }
    if (step % 2500 == 0) expect_same(m, ref);
  }
  expect_same(m, ref);
  // Erasing every entry by position, in one forward pass, as peer-down does.
  for (uint32_t i = 0; i < m.positions(); ++i)
    if (m.live(i)) m.erase(PrefixMap<int>::iterator(&m, i));
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.positions(), 0u);
  EXPECT_EQ(m.find(v4(0x0A000000u, 24)), m.end());
}

// The RIB keeps a bit per position for each peer, so an entry must stay where it is while
// others come and go, and a freed position must be reused rather than the table grow.
TEST(PrefixMap, EntriesKeepTheirPositionAndHolesAreReused) {
  PrefixMap<int> m;
  std::map<Prefix, uint32_t> where;
  for (uint32_t i = 0; i < 1000; ++i)
    where[v4(0x0A000000u + i * 256u, 24)] =
        m.try_emplace(v4(0x0A000000u + i * 256u, 24), int(i)).first.position();
  for (uint32_t i = 0; i < 1000; i += 2) m.erase(v4(0x0A000000u + i * 256u, 24));
  for (uint32_t i = 1; i < 1000; i += 2) {
    auto it = m.find(v4(0x0A000000u + i * 256u, 24));
    ASSERT_NE(it, m.end());
    EXPECT_EQ(it.position(), where[v4(0x0A000000u + i * 256u, 24)]);
    EXPECT_EQ(it->second, int(i));
  }
  for (uint32_t i = 0; i < 500; ++i) m[v4(0x0B000000u + i * 256u, 24)] = -1;
  EXPECT_EQ(m.positions(), 1000u);
  EXPECT_EQ(m.size(), 1000u);
  size_t walked = 0;
  for (const auto& [p, v] : m) walked += v == -1 || v % 2 == 1;
  EXPECT_EQ(walked, 1000u);
}

TEST(PrefixMap, KeepsBothFamiliesAndLengthsApart) {
  PrefixMap<int> m;
  auto v6 = *Prefix::parse("2001:db8::/32");
  auto v6b = *Prefix::parse("2001:db8::/48");
  m[v4(0x0A000000u, 8)] = 1;
  m[v4(0x0A000000u, 16)] = 2;
  m[v6] = 3;
  m[v6b] = 4;
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(m.find(v4(0x0A000000u, 16))->second, 2);
  EXPECT_EQ(m.find(v6b)->second, 4);
  auto [it, fresh] = m.try_emplace(v6, 9);
  EXPECT_FALSE(fresh);
  EXPECT_EQ(it->second, 3);
}

TEST(PathList, OneInlineThenHeapThenInlineAgainKeepingOrder) {
  PathList l;
  EXPECT_TRUE(l.empty());
  for (PeerId peer = 1; peer <= 5; ++peer) l.push_back(Path{peer, 0, nullptr, peer});
  ASSERT_EQ(l.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(l[i].peer, i + 1);
  auto* next = l.erase(l.begin() + 1);  // peer 2
  EXPECT_EQ(next->peer, 3u);
  while (l.size() > 1) l.erase(l.begin());
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.begin()->peer, 5u);
  PathList moved = std::move(l);
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].arrival, 5u);
  moved.erase(moved.begin());
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(moved.begin(), moved.end());
}
