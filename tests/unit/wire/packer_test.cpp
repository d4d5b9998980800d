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
  auto msgs = *pack_announce(attrs(), A("198.18.0.1"), pfx, o);
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
  auto msgs = *pack_announce(attrs(), A("2001:2::1"), pfx, o);
  EXPECT_LE(msgs.size(), 4u);
  EXPECT_EQ(unpack(msgs, o, true), pfx);
}

TEST(Packer, ExtendedMessagesPackMorePerUpdate) {
  auto pfx = v4_prefixes(10000);
  CodecOptions ext{true, true};
  auto msgs = *pack_announce(attrs(), A("198.18.0.1"), pfx, ext);
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

// What a peer learned from one neighbour and passes on: a path of ~1,000 ASNs, some of them
// 4-octet, sent to a peer without the 4-octet AS capability (AS_TRANS in AS_PATH, the real
// ASNs again in AS4_PATH). The bug: the attributes alone were over 4,096 bytes, the room
// left for prefixes wrapped around, and one 6,068-byte UPDATE went out.
namespace {
AsPath long_path(size_t n) {
  AsPath p;
  for (size_t i = 0; i < n; ++i) p.prepend(i % 2 ? 4200000001u : 65001, 1);
  return p;
}
}  // namespace

TEST(Packer, AttributesTooLongForTheMessageAreNotSentAndSaySo) {
  PathAttributes a = attrs();
  a.as_path = long_path(1000);
  CodecOptions two_octet{false, false};
  for (const auto& [nh, pfx] :
       {std::pair{A("198.18.0.1"), v4_prefixes(3)}, std::pair{A("2001:2::1"), v6_prefixes(3)}}) {
    auto r = pack_announce(a, nh, pfx, two_octet);
    ASSERT_FALSE(r) << "sent " << r->size() << " messages, the first " << r->at(0).size()
                    << " bytes";
    EXPECT_NE(r.error().find("leaving no room for a prefix in a 4096-byte UPDATE"),
              std::string::npos)
        << r.error();
  }
  // The same path fits where extended messages (RFC 8654) were negotiated.
  CodecOptions extended{false, true};
  auto big = pack_announce(a, A("198.18.0.1"), v4_prefixes(3), extended);
  ASSERT_TRUE(big);
  EXPECT_GT(big->at(0).size(), 4096u);
  EXPECT_EQ(unpack(*big, extended, true), v4_prefixes(3));
}

// Near the limit: each message is sized with the AS4_PATH the 2-octet peer gets, so every
// one stays within 4,096 bytes and all prefixes arrive.
TEST(Packer, TwoOctetPeerMessagesCountTheAs4PathAndStayWithinTheLimit) {
  PathAttributes a = attrs();
  a.as_path = long_path(600);  // ~1.2 kB as AS_PATH plus ~2.4 kB as AS4_PATH
  CodecOptions two_octet{false, false};
  for (const auto& [nh, pfx] : {std::pair{A("198.18.0.1"), v4_prefixes(400)},
                                std::pair{A("2001:2::1"), v6_prefixes(400)}}) {
    auto msgs = pack_announce(a, nh, pfx, two_octet);
    ASSERT_TRUE(msgs) << msgs.error();
    EXPECT_GT(msgs->size(), 1u);
    EXPECT_EQ(unpack(*msgs, two_octet, true), pfx);
    for (const auto& m : *msgs) {
      auto u = std::get<Update>(decode(m, two_octet).value());
      ASSERT_TRUE(u.attrs.as_path);
      // AS4_PATH merged back: the real 4-octet ASNs, not AS_TRANS.
      EXPECT_EQ(u.attrs.as_path->segments.front().asns.front(), 4200000001u);
      EXPECT_EQ(u.attrs.as_path->length(), 600u);
    }
  }
}

// The attributes are encoded once and spliced: the message reads exactly as the codec's
// own encoding of the same UPDATE, for both families.
TEST(Packer, MessagesAreByteForByteTheCodecsEncoding) {
  CodecOptions o;
  Update v4;
  v4.attrs = attrs();
  v4.attrs.next_hop = A("198.18.0.1");
  v4.nlri = v4_prefixes(5);
  EXPECT_EQ(pack_announce(attrs(), A("198.18.0.1"), v4.nlri, o)->at(0), encode(v4, o));
  Update v6;
  v6.attrs = attrs();
  v6.attrs.large_communities = {{65010, 1, 2}};  // a type after MP_REACH_NLRI
  v6.mp_reach = MpReach{{kAfiIpv6, kSafiUnicast}, A("2001:2::1"), std::nullopt, v6_prefixes(5)};
  EXPECT_EQ(pack_announce(v6.attrs, A("2001:2::1"), v6.mp_reach->nlri, o)->at(0), encode(v6, o));
}
