#include "wire/packer.hpp"

#include <gtest/gtest.h>

#include "wire/test_util.hpp"

using namespace anycastd;
using namespace anycastd::bgp;
using namespace anycastd::bgp::test;

namespace {

PathAttributes attrs() {
  PathAttributes a;
  a.origin = kOriginIgp;
  a.as_path = AsPath{{{kAsSequence, {65010, 65010}}}};
  a.communities = {1, 2, 3};
  return a;
}

std::vector<Prefix> v4_prefixes(size_t n) {
  std::vector<Prefix> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(IpAddress::v4(0x0A000000 + uint32_t(i << 8)), 24);
  return out;
}

std::vector<Prefix> v6_prefixes(size_t n) {
  std::vector<Prefix> out;
  for (size_t i = 0; i < n; ++i) {
    std::array<uint8_t, 16> raw{0x20, 0x01, 0x00, 0x02};
    raw[4] = uint8_t(i >> 8);
    raw[5] = uint8_t(i);
    out.emplace_back(IpAddress::v6(raw), 48);
  }
  return out;
}

// Decodes every message, checks its size, and returns what they announce/withdraw.
std::vector<Prefix> unpack(const std::vector<Bytes>& msgs, const CodecOptions& o, bool announce) {
  std::vector<Prefix> out;
  for (const auto& m : msgs) {
    EXPECT_LE(m.size(), o.max_message());
    auto r = decode(m, o);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) continue;
    const auto& u = std::get<Update>(r.value());
    auto got = announce ? u.announced() : u.withdrawn_all();
    out.insert(out.end(), got.begin(), got.end());
  }
  return out;
}

}  // namespace

TEST(Packer, FitsManyIpv4PrefixesPerUpdateAndLosesNone) {
  auto pfx = v4_prefixes(3000);
  CodecOptions o;
  auto msgs = pack_announce(attrs(), A("198.18.0.1"), pfx, o);
  // 4-byte /24s: about 1000 fit in 4096 bytes, so three or four messages, not 3000.
  EXPECT_LE(msgs.size(), 4u);
  EXPECT_EQ(unpack(msgs, o, true), pfx);
  for (const auto& m : msgs) {
    auto u = std::get<Update>(decode(m, o).value());
    EXPECT_EQ(*u.attrs.next_hop, A("198.18.0.1"));
    EXPECT_EQ(u.attrs.communities, attrs().communities);
  }
}

TEST(Packer, FitsManyIpv6PrefixesInMpReach) {
  auto pfx = v6_prefixes(2000);
  CodecOptions o;
  auto msgs = pack_announce(attrs(), A("2001:2::1"), pfx, o);
  EXPECT_LE(msgs.size(), 4u);
  EXPECT_EQ(unpack(msgs, o, true), pfx);
}

TEST(Packer, ExtendedMessagesPackMorePerUpdate) {
  auto pfx = v4_prefixes(10000);
  CodecOptions ext{true, true};
  auto msgs = pack_announce(attrs(), A("198.18.0.1"), pfx, ext);
  EXPECT_EQ(msgs.size(), 1u);
  EXPECT_EQ(unpack(msgs, ext, true), pfx);
}

TEST(Packer, WithdrawalsOfBothFamilies) {
  CodecOptions o;
  auto v4 = v4_prefixes(1500);
  auto v6 = v6_prefixes(1500);
  EXPECT_EQ(unpack(pack_withdraw(v4, o), o, false), v4);
  EXPECT_EQ(unpack(pack_withdraw(v6, o), o, false), v6);
}
