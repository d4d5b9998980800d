#include "health/dns_message.hpp"

#include <gtest/gtest.h>

using namespace anycastd;
using namespace anycastd::health::dns;

namespace {

Bytes bytes(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(std::byte(x));
  return b;
}

void append(Bytes& b, const Bytes& more) {
  b.insert(b.end(), more.begin(), more.end());
}

// A response to `query` (its header and question reused) with the answers appended.
Bytes respond(const Bytes& query, uint8_t rcode, uint16_t ancount, const Bytes& answers) {
  Bytes r = query;
  r[2] = std::byte(0x81);  // QR, RD
  r[3] = std::byte(0x80 | rcode);
  r[6] = std::byte(ancount >> 8);
  r[7] = std::byte(ancount & 0xFF);
  append(r, answers);
  return r;
}

}  // namespace

TEST(DnsMessage, QueryIsOneRecursiveQuestionInWireFormat) {
  auto q = build_query(0x1234, "App.Example.", 1);
  EXPECT_EQ(q, bytes({0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0, 0, 0, 3, 'A', 'p',
                      'p',  7,    'E',  'x',  'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1}));
}

TEST(DnsMessage, InvalidNamesGiveNoQuery) {
  EXPECT_TRUE(build_query(1, "a..b", 1).empty());
  EXPECT_TRUE(build_query(1, std::string(64, 'x') + ".com", 1).empty());
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'x') + ".";
  EXPECT_TRUE(build_query(1, long_name, 1).empty());
}

TEST(DnsMessage, ParsesCompressedCnameChainAndKeepsOnlyTheAskedType) {
  auto q = build_query(7, "app.example", 1);
  // app.example CNAME www.example (pointer to offset 12 for the owner), then www.example A.
  Bytes ans = bytes({0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'w', 'w', 0xC0, 16});
  append(ans, bytes({0xC0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 2, 2, 2, 2}));
  auto r = parse_response(respond(q, 0, 2, ans));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 7);
  EXPECT_EQ(r->rcode, 0);
  EXPECT_EQ(r->question, "app.example");
  EXPECT_EQ(r->answers, std::vector<std::string>{"2.2.2.2"});
}

TEST(DnsMessage, ParsesAaaaAndTxtAndRcode) {
  auto q6 = build_query(1, "x", 28);
  Bytes a6 = bytes({0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 1, 0, 16});
  append(a6, bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(parse_response(respond(q6, 0, 1, a6))->answers,
            std::vector<std::string>{"2001:db8::1"});
  auto qt = build_query(1, "x", 16);
  Bytes txt =
      bytes({0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 9, 3, 'w', 'e', 'u', 4, '-', 'o', 'k', '!'});
  EXPECT_EQ(parse_response(respond(qt, 0, 1, txt))->answers, std::vector<std::string>{"weu-ok!"});
  auto nx = parse_response(respond(qt, 3, 0, {}));
  ASSERT_TRUE(nx);
  EXPECT_EQ(rcode_to_string(nx->rcode), "NXDOMAIN");
}

TEST(DnsMessage, RejectsMalformedResponsesWithoutReadingPastTheEnd) {
  auto q = build_query(1, "x", 1);
  EXPECT_FALSE(parse_response(q)) << "a query is not a response";
  // Pointer loop in the answer's owner name.
  EXPECT_FALSE(parse_response(respond(q, 0, 1, bytes({0xC0, 17, 0, 1}))));
  // Record data longer than the message.
  EXPECT_FALSE(
      parse_response(respond(q, 0, 1, bytes({0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1}))));
  // Every truncation of a valid response fails cleanly.
  auto ok = respond(q, 0, 1, bytes({0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 1, 1, 1}));
  ASSERT_TRUE(parse_response(ok));
  for (size_t n = 0; n < ok.size(); ++n) EXPECT_FALSE(parse_response(ByteView(ok.data(), n))) << n;
}

TEST(DnsMessage, MnemonicsRoundTrip) {
  EXPECT_EQ(qtype_from_string("aaaa"), 28);
  EXPECT_EQ(qtype_to_string(16), "TXT");
  EXPECT_FALSE(qtype_from_string("AXFR2"));
  EXPECT_EQ(rcode_from_string("servfail"), 2);
  EXPECT_EQ(rcode_to_string(9), "RCODE9");
}
