#include "wire/codec.hpp"

#include <gtest/gtest.h>

#include "wire/test_util.hpp"

using namespace anycastd;
using namespace anycastd::bgp;
using namespace anycastd::bgp::test;

namespace {

Message roundtrip(const Message& m, const CodecOptions& o = {}) {
  auto bytes = encode(m, o);
  auto back = decode(bytes, o);
  EXPECT_TRUE(back.ok()) << (back.ok() ? "" : back.error().reason);
  return back.ok() ? back.value() : Message{};
}

PathAttributes full_attrs() {
  PathAttributes a;
  a.origin = kOriginIgp;
  a.as_path = AsPath{{{kAsSequence, {65010, 65010, 4200000001u}}, {kAsSet, {1, 2}}}};
  a.next_hop = A("198.18.0.1");
  a.med = 50;
  a.local_pref = 200;
  a.atomic_aggregate = true;
  a.aggregator = Aggregator{65010, A("198.18.0.1")};
  a.communities = {(65010u << 16) | 100, 0xFFFF0000u};
  a.large_communities = {{65010, 1, 2}, {4200000001u, 3, 4}};
  a.originator_id = 0xC6120001;
  a.cluster_list = {0xC6120002, 0xC6120003};
  a.unknown = {{attr::kOptional | attr::kTransitive | attr::kPartial, 99, raw({1, 2, 3})}};
  return a;
}

}  // namespace

TEST(Codec, KeepaliveRoundTripsAndIs19Bytes) {
  auto b = encode(Keepalive{}, {});
  EXPECT_EQ(b.size(), 19u);
  EXPECT_TRUE(std::holds_alternative<Keepalive>(roundtrip(Keepalive{})));
}

TEST(Codec, OpenWithEveryCapabilityRoundTrips) {
  Open o;
  o.my_as = kAsTrans;
  o.hold_time = 9;
  o.bgp_id = 0xC6120001;
  o.caps.multiprotocol = {{kAfiIpv4, kSafiUnicast}, {kAfiIpv6, kSafiUnicast}};
  o.caps.four_octet_as = 4200000001u;
  o.caps.route_refresh = true;
  o.caps.enhanced_route_refresh = true;
  o.caps.extended_message = true;
  o.caps.graceful_restart = GracefulRestart{true, 120, {{{kAfiIpv4, kSafiUnicast}, true}}};
  o.caps.unknown = {{73, raw({4, 'n', 'v', 'a', '1', 0})}};
  auto back = roundtrip(o);
  ASSERT_TRUE(std::holds_alternative<Open>(back));
  EXPECT_EQ(std::get<Open>(back), o);
  EXPECT_EQ(std::get<Open>(back).asn(), 4200000001u);
}

TEST(Codec, UpdateWithEveryAttributeRoundTrips) {
  Update u;
  u.withdrawn = {P("198.18.1.0/24")};
  u.attrs = full_attrs();
  u.nlri = {P("198.18.9.9/32"), P("10.0.0.0/8"), P("0.0.0.0/0")};
  auto back = roundtrip(u);
  ASSERT_TRUE(std::holds_alternative<Update>(back));
  EXPECT_EQ(std::get<Update>(back), u);
}

TEST(Codec, Ipv6UpdateUsesMpReachAndRoundTrips) {
  Update u;
  u.attrs.origin = kOriginIgp;
  u.attrs.as_path = AsPath{{{kAsSequence, {65010}}}};
  u.mp_reach =
      MpReach{{kAfiIpv6, kSafiUnicast}, A("2001:2::1"), A("fe80::1"), {P("2001:2::9/128")}};
  u.mp_unreach = MpUnreach{{kAfiIpv6, kSafiUnicast}, {P("2001:2:0:1::/64")}};
  auto back = std::get<Update>(roundtrip(u));
  EXPECT_EQ(back, u);
  EXPECT_EQ(back.announced(), std::vector<Prefix>{P("2001:2::9/128")});
}

TEST(Codec, NotificationAndRouteRefreshRoundTrip) {
  Notification n{err::kCease, err::kCeaseAdminShutdown, raw({5, 'b', 'y', 'e', '!', '!'})};
  EXPECT_EQ(std::get<Notification>(roundtrip(n)), n);
  EXPECT_EQ(n.to_string(), "Cease/Administrative Shutdown");
  RouteRefresh rr{{kAfiIpv6, kSafiUnicast}, 0};
  EXPECT_EQ(std::get<RouteRefresh>(roundtrip(rr)), rr);
}

TEST(Codec, FourOctetPathTowardTwoOctetPeerUsesAsTransAndAs4Path) {
  CodecOptions two{false, false};
  Update u;
  u.attrs.origin = kOriginIgp;
  u.attrs.as_path = AsPath{{{kAsSequence, {65010, 4200000001u, 65020}}}};
  u.attrs.next_hop = A("198.18.0.1");
  u.attrs.aggregator = Aggregator{4200000001u, A("198.18.0.1")};
  u.nlri = {P("198.18.9.9/32")};
  auto bytes = encode(u, two);
  // Read it as a 2-octet speaker would: AS_TRANS in AS_PATH.
  Bytes attrs(bytes.begin() + 23, bytes.end() - 5);
  bool saw_trans = false;
  for (size_t i = 0; i + 1 < attrs.size(); ++i)
    if (attrs[i] == std::byte{0x5B} && attrs[i + 1] == std::byte{0xA0}) saw_trans = true;
  EXPECT_TRUE(saw_trans) << "AS_TRANS 23456 missing from the 2-octet AS_PATH";
  // And the decoder, on the same 2-octet session, rebuilds the true path (RFC 6793 §4.2.3).
  auto back = decode(bytes, two);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<Update>(back.value()).attrs.as_path, u.attrs.as_path);
  EXPECT_EQ(std::get<Update>(back.value()).attrs.aggregator->asn, 4200000001u);
}

TEST(Codec, As4PathIgnoredWhenLongerThanAsPath) {
  CodecOptions two{false, false};
  // AS_PATH [23456] but AS4_PATH [1 2]: inconsistent, keep AS_PATH (RFC 6793 §4.2.3).
  Bytes attrs = raw({0x40, 1, 1,    0,  0x40, 2, 4, 2, 1, 0x5B, 0xA0, 0x40, 3, 4, 198, 18,
                     0,    1, 0xC0, 17, 10,   2, 2, 0, 0, 0,    1,    0,    0, 0, 2});
  auto r = decode(update_with_body(body_with_attrs(attrs)), two);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<Update>(r.value()).attrs.as_path->to_string(), "23456");
}

TEST(Codec, UnknownOptionalTransitiveIsKeptWithPartialBit) {
  Bytes attrs = cat(mandatory_attrs(), raw({0xC0, 200, 2, 0xAB, 0xCD}));
  auto r = decode(update_with_body(body_with_attrs(attrs)), {});
  ASSERT_TRUE(r.ok());
  const auto& u = std::get<Update>(r.value());
  ASSERT_EQ(u.attrs.unknown.size(), 1u);
  EXPECT_EQ(u.attrs.unknown[0].type, 200);
  EXPECT_TRUE(u.attrs.unknown[0].flags & attr::kPartial);
  EXPECT_EQ(u.attrs.unknown[0].value, raw({0xAB, 0xCD}));
}

TEST(Codec, UnknownOptionalNonTransitiveIsDropped) {
  Bytes attrs = cat(mandatory_attrs(), raw({0x80, 201, 1, 7}));
  auto r = decode(update_with_body(body_with_attrs(attrs)), {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::get<Update>(r.value()).attrs.unknown.empty());
}

TEST(Codec, LongAttributeUsesExtendedLength) {
  Update u;
  u.attrs.origin = kOriginIgp;
  u.attrs.as_path = AsPath{};
  u.attrs.next_hop = A("198.18.0.1");
  for (uint32_t i = 0; i < 100; ++i) u.attrs.communities.push_back(i);  // 400 bytes
  u.nlri = {P("198.18.9.9/32")};
  EXPECT_EQ(std::get<Update>(roundtrip(u)), u);
}

TEST(Codec, EndOfRibMarkers) {
  Update v4;
  EXPECT_EQ(v4.end_of_rib(), (AfiSafi{kAfiIpv4, kSafiUnicast}));
  Update v6;
  v6.mp_unreach = MpUnreach{{kAfiIpv6, kSafiUnicast}, {}};
  EXPECT_EQ(std::get<Update>(roundtrip(v6)).end_of_rib(), (AfiSafi{kAfiIpv6, kSafiUnicast}));
  Update not_eor;
  not_eor.withdrawn = {P("198.18.0.0/24")};
  EXPECT_FALSE(not_eor.end_of_rib());
}

TEST(Framing, WaitsForWholeHeaderThenReportsLength) {
  auto b = encode(Keepalive{}, {});
  EXPECT_FALSE(*frame_length(ByteView(b).first(18), {}));
  EXPECT_EQ(**frame_length(b, {}), 19u);
}

struct HeaderCase {
  const char* name;
  size_t offset;
  uint8_t value;
  uint8_t code, subcode;
};

// Names the case in test listings instead of dumping its bytes (which hold a pointer, so the
// listed names changed from build to build).
void PrintTo(const HeaderCase& c, std::ostream* os) {
  *os << c.name;
}

class HeaderErrors : public ::testing::TestWithParam<HeaderCase> {};

TEST_P(HeaderErrors, AreSessionResetsWithTheRightNotification) {
  auto c = GetParam();
  auto b = encode(Keepalive{}, {});
  b[c.offset] = std::byte{c.value};
  auto r = decode(b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, c.code);
  EXPECT_EQ(r.error().subcode, c.subcode);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4271, HeaderErrors,
    ::testing::Values(HeaderCase{"marker", 3, 0x00, err::kHeader, err::kConnectionNotSynchronized},
                      HeaderCase{"type", 18, 9, err::kHeader, err::kBadMessageType},
                      HeaderCase{"keepalive_len", 17, 20, err::kHeader, err::kBadMessageLength},
                      HeaderCase{"short_len", 17, 18, err::kHeader, err::kBadMessageLength}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Framing, MessageOver4096IsRejectedUnlessExtendedMessagesAgreed) {
  Update u;
  u.attrs.origin = kOriginIgp;
  u.attrs.as_path = AsPath{};
  u.attrs.next_hop = A("198.18.0.1");
  for (uint32_t i = 0; i < 2000; ++i)
    u.nlri.push_back(Prefix(IpAddress::v4(0x0A000000 + (i << 8)), 24));
  auto big = encode(u, {true, true});
  ASSERT_GT(big.size(), 4096u);
  EXPECT_EQ(decode(big, {true, false}).error().subcode, err::kBadMessageLength);
  EXPECT_TRUE(decode(big, {true, true}).ok());
}

TEST(OpenErrors, VersionOtherThanFourIsRejectedWithSupportedVersion) {
  Open o;
  o.version = 3;
  auto r = decode(encode(o, {}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, err::kOpen);
  EXPECT_EQ(r.error().subcode, err::kUnsupportedVersion);
  EXPECT_EQ(r.error().data, raw({0, 4}));
}

TEST(OpenErrors, TruncatedCapabilityIsAnOpenError) {
  Open o;
  o.caps.route_refresh = true;
  auto b = encode(o, {});
  b[b.size() - 1] = std::byte{5};  // capability claims 5 bytes of value that are not there
  auto r = decode(b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, err::kOpen);
}

// Found by fuzz_decode: an AS4_PATH with a confederation segment was merged into the path.
TEST(Codec, As4PathWithConfederationSegmentIsDiscarded) {
  CodecOptions two{false, false};
  Bytes attrs = raw({0x40, 1,  1, 0, 0x40, 2,  4, 2, 1, 0x5B, 0xA0, 0x40, 3,   4,
                     198,  18, 0, 1, 0xC0, 17, 6, 3, 1, 0xFA, 0x56, 0xEA, 0x02});
  auto r = decode(update_with_body(body_with_attrs(attrs)), two);
  ASSERT_TRUE(r.ok());
  const auto& u = std::get<Update>(r.value());
  EXPECT_EQ(u.attrs.as_path->to_string(), "23456");
  EXPECT_FALSE(u.treat_as_withdraw);
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0], "AS4_PATH: attribute discarded");
}

// Found by a long fuzz_decode run (heap-use-after-free under ASan): the discard freed the
// segment list while still iterating over it, so a confederation segment followed by any
// other segment read freed memory.
TEST(Codec, As4PathWithConfederationSegmentFirstIsDiscardedSafely) {
  CodecOptions two{false, false};
  Bytes attrs =
      raw({0x40, 1,    1,  0,  0x40, 2, 4,    2,    1,    0x5B, 0xA0, 0x40, 3, 4, 198,  18,  0,
           1,    0xC0, 17, 12, 3,    1, 0xFA, 0x56, 0xEA, 0x02, 2,    1,    0, 0, 0xFD, 0xE8});
  auto r = decode(update_with_body(body_with_attrs(attrs)), two);
  ASSERT_TRUE(r.ok());
  const auto& u = std::get<Update>(r.value());
  EXPECT_EQ(u.attrs.as_path->to_string(), "23456");
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0], "AS4_PATH: attribute discarded");
}

// Found by fuzz_decode: the AS4 merge joined adjacent SEQUENCE segments, so re-encoding a
// decoded path and decoding it again gave a different segment list.
TEST(Codec, As4MergeKeepsSegmentsSoRoundTripsAreStable) {
  CodecOptions two{false, false};
  Update u;
  u.attrs.origin = kOriginIgp;
  u.attrs.as_path =
      AsPath{{{kAsSequence, {1, 64784, 65449}}, {kAsSequence, {5381}}, {kAsSet, {3307849944u}}}};
  u.attrs.next_hop = A("198.18.0.1");
  u.nlri = {P("198.18.9.9/32")};
  auto once = decode(encode(u, two), two);
  ASSERT_TRUE(once.ok());
  auto twice = decode(encode(once.value(), two), two);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(std::get<Update>(once.value()).attrs.as_path, u.attrs.as_path);
  EXPECT_EQ(std::get<Update>(twice.value()).attrs.as_path, u.attrs.as_path);
}
