// RFC 7606: each malformed attribute gets its own action. One row per case the RFC names.
#include <gtest/gtest.h>

#include "wire/codec.hpp"
#include "wire/test_util.hpp"

using namespace anycastd;
using namespace anycastd::bgp;
using namespace anycastd::bgp::test;

namespace {

enum class Expect { ok, treat_as_withdraw, discard, reset };

struct Case {
  const char* name;
  Bytes attrs;  // raw attribute block
  Expect expect;
  uint8_t subcode = 0;  // for reset
};

// Replaces the mandatory attribute of `type` with `bad`, keeping the others.
Bytes with(uint8_t type, const Bytes& bad) {
  Bytes origin = raw({0x40, 1, 1, 0});
  Bytes path = raw({0x40, 2, 6, 2, 1, 0, 0, 0xFD, 0xF2});
  Bytes nh = raw({0x40, 3, 4, 198, 18, 0, 1});
  if (type == 1) origin = bad;
  if (type == 2) path = bad;
  if (type == 3) nh = bad;
  return cat(cat(origin, path), nh);
}

Bytes plus(const Bytes& extra) {
  return cat(mandatory_attrs(), extra);
}

std::vector<Case> cases() {
  return {
      {"valid", mandatory_attrs(), Expect::ok},
      {"origin_value_3", with(1, raw({0x40, 1, 1, 3})), Expect::treat_as_withdraw},
      {"origin_length_2", with(1, raw({0x40, 1, 2, 0, 0})), Expect::treat_as_withdraw},
      {"origin_flagged_optional", with(1, raw({0xC0, 1, 1, 0})), Expect::treat_as_withdraw},
      {"as_path_segment_overrun", with(2, raw({0x40, 2, 6, 2, 2, 0, 0, 0xFD, 0xF2})),
       Expect::treat_as_withdraw},
      {"as_path_zero_count", with(2, raw({0x40, 2, 2, 2, 0})), Expect::treat_as_withdraw},
      {"as_path_bad_segment_type", with(2, raw({0x40, 2, 6, 9, 1, 0, 0, 0xFD, 0xF2})),
       Expect::treat_as_withdraw},
      // RFC 7607 §2: AS 0 anywhere in the path makes the UPDATE malformed.
      {"as_path_holds_as0", with(2, raw({0x40, 2, 10, 2, 2, 0, 0, 0xFD, 0xF2, 0, 0, 0, 0})),
       Expect::treat_as_withdraw},
      {"as_path_set_holds_as0", with(2, raw({0x40, 2, 6, 1, 1, 0, 0, 0, 0})),
       Expect::treat_as_withdraw},
      {"aggregator_as0", plus(raw({0xC0, 7, 8, 0, 0, 0, 0, 198, 18, 0, 1})), Expect::discard},
      {"next_hop_length_5", with(3, raw({0x40, 3, 5, 198, 18, 0, 1, 0})),
       Expect::treat_as_withdraw},
      {"missing_origin", raw({0x40, 2, 6, 2, 1, 0, 0, 0xFD, 0xF2, 0x40, 3, 4, 198, 18, 0, 1}),
       Expect::treat_as_withdraw},
      {"missing_as_path", raw({0x40, 1, 1, 0, 0x40, 3, 4, 198, 18, 0, 1}),
       Expect::treat_as_withdraw},
      {"missing_next_hop", raw({0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 0xF2}),
       Expect::treat_as_withdraw},
      {"med_length_3", plus(raw({0x80, 4, 3, 0, 0, 1})), Expect::treat_as_withdraw},
      {"local_pref_length_2", plus(raw({0x40, 5, 2, 0, 1})), Expect::treat_as_withdraw},
      {"communities_length_3", plus(raw({0xC0, 8, 3, 1, 2, 3})), Expect::treat_as_withdraw},
      {"communities_empty", plus(raw({0xC0, 8, 0})), Expect::treat_as_withdraw},
      {"large_communities_length_8", plus(raw({0xC0, 32, 8, 0, 0, 0, 1, 0, 0, 0, 2})),
       Expect::treat_as_withdraw},
      {"originator_id_length_3", plus(raw({0x80, 9, 3, 1, 2, 3})), Expect::treat_as_withdraw},
      {"originator_id_transitive", plus(raw({0xC0, 9, 4, 1, 2, 3, 4})), Expect::treat_as_withdraw},
      {"cluster_list_length_6", plus(raw({0x80, 10, 6, 1, 2, 3, 4, 5, 6})),
       Expect::treat_as_withdraw},
      {"atomic_aggregate_length_1", plus(raw({0x40, 6, 1, 0})), Expect::discard},
      {"aggregator_length_5", plus(raw({0xC0, 7, 5, 0, 1, 2, 3, 4})), Expect::discard},
      {"repeated_med_discarded", plus(raw({0x80, 4, 4, 0, 0, 0, 1, 0x80, 4, 4, 0, 0, 0, 2})),
       Expect::discard},
      {"attribute_overruns_list", plus(raw({0x80, 4, 9, 0, 0, 0, 1})), Expect::treat_as_withdraw},
      {"unrecognized_well_known", plus(raw({0x40, 99, 1, 0})), Expect::reset,
       err::kUnrecognizedWellKnown},
      {"mp_reach_bad_next_hop_length", plus(raw({0x80, 14, 10, 0, 2, 1, 5, 1, 2, 3, 4, 5, 0})),
       Expect::reset, err::kOptionalAttribute},
      {"mp_reach_prefix_too_long", plus(raw({0x80, 14, 22, 0, 2, 1, 16, 0x20, 1, 0, 2, 0,  0,
                                             0,    0,  0,  0, 0, 0, 0,  0,    0, 1, 0, 129})),
       Expect::reset, err::kOptionalAttribute},
      {"mp_unreach_repeated", plus(raw({0x80, 15, 3, 0, 2, 1, 0x80, 15, 3, 0, 2, 1})),
       Expect::reset, err::kMalformedAttributeList},
  };
}

// The case's name in test listings, not its bytes (which hold pointers).
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class Rfc7606 : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(Rfc7606, MalformedAttributeGetsTheRfcAction) {
  const auto& c = GetParam();
  auto r = decode(update_with_body(body_with_attrs(c.attrs)), {});
  if (c.expect == Expect::reset) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, err::kUpdate);
    EXPECT_EQ(r.error().subcode, c.subcode);
    return;
  }
  ASSERT_TRUE(r.ok()) << r.error().reason;
  const auto& u = std::get<Update>(r.value());
  EXPECT_EQ(u.treat_as_withdraw, c.expect == Expect::treat_as_withdraw);
  EXPECT_EQ(u.diagnostics.empty(), c.expect == Expect::ok);
  if (c.expect == Expect::treat_as_withdraw) {
    EXPECT_EQ(u.withdrawn_all(), std::vector<Prefix>{P("198.18.0.0/24")});
  }
  if (c.expect == Expect::discard) {
    EXPECT_EQ(u.withdrawn_all(), std::vector<Prefix>{});
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Rfc7606, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Rfc7606Lengths, WithdrawnLengthPastMessageIsSessionReset) {
  Bytes body = raw({0, 50, 0, 0});
  auto r = decode(update_with_body(body), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().subcode, err::kMalformedAttributeList);
}

TEST(Rfc7606Lengths, NlriPrefixLongerThan32IsSessionReset) {
  Bytes body = cat(raw({0, 0, 0, static_cast<int>(mandatory_attrs().size())}), mandatory_attrs());
  body = cat(body, raw({33, 1, 2, 3, 4, 5}));
  auto r = decode(update_with_body(body), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().subcode, err::kInvalidNetworkField);
}

TEST(Rfc7606Lengths, TruncatedPrefixIsSessionReset) {
  Bytes body = cat(raw({0, 0, 0, static_cast<int>(mandatory_attrs().size())}), mandatory_attrs());
  body = cat(body, raw({24, 198, 18}));
  EXPECT_FALSE(decode(update_with_body(body), {}).ok());
}

TEST(Rfc7606Lengths, WithdrawOnlyUpdateNeedsNoMandatoryAttributes) {
  Bytes body = raw({0, 4, 24, 198, 18, 0, 0, 0});
  auto r = decode(update_with_body(body), {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(std::get<Update>(r.value()).treat_as_withdraw);
  EXPECT_EQ(std::get<Update>(r.value()).withdrawn, std::vector<Prefix>{P("198.18.0.0/24")});
}

// RFC 6793: AS4_PATH is read only from a 2-octet peer; AS 0 there is malformed too (7607).
TEST(Rfc7607, As4PathHoldingAs0IsTreatAsWithdraw) {
  Bytes attrs = raw({0x40, 1, 1,    0,  0x40, 2, 4, 2, 1, 0x5B, 0xA0, 0x40, 3, 4, 198, 18,
                     0,    1, 0xC0, 17, 10,   2, 2, 0, 0, 0xFD, 0xF2, 0,    0, 0, 0});
  CodecOptions two_octet;
  two_octet.four_octet_as = false;
  auto r = decode(update_with_body(body_with_attrs(attrs)), two_octet);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  const auto& u = std::get<Update>(r.value());
  EXPECT_TRUE(u.treat_as_withdraw);
  EXPECT_EQ(u.withdrawn_all(), std::vector<Prefix>{P("198.18.0.0/24")});
}

// RFC 4271 §5.1.5 and RFC 7606 §7.5: LOCAL_PREF from an external peer is ignored and the
// route kept; from an internal peer it is the route's preference.
TEST(LocalPref, IgnoredFromExternalPeerKeptFromInternal) {
  Bytes attrs = plus(raw({0x40, 5, 4, 0, 0, 0x03, 0xE8}));  // LOCAL_PREF 1000
  CodecOptions ebgp, ibgp;
  ebgp.external_peer = true;
  auto e = decode(update_with_body(body_with_attrs(attrs)), ebgp);
  ASSERT_TRUE(e.ok()) << e.error().reason;
  const auto& ue = std::get<Update>(e.value());
  EXPECT_FALSE(ue.attrs.local_pref);
  EXPECT_TRUE(ue.ignored_local_pref);
  EXPECT_FALSE(ue.treat_as_withdraw);
  EXPECT_TRUE(ue.diagnostics.empty());  // the rule, not the peer's fault: no warning
  EXPECT_EQ(ue.announced(), std::vector<Prefix>{P("198.18.0.0/24")});
  auto i = decode(update_with_body(body_with_attrs(attrs)), ibgp);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(std::get<Update>(i.value()).attrs.local_pref, 1000u);
  EXPECT_FALSE(std::get<Update>(i.value()).ignored_local_pref);
}
