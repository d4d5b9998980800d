#include "proxy/proxy_protocol.hpp"

#include <gtest/gtest.h>

using namespace anycastd;
using namespace anycastd::proxy;

namespace {
Endpoint ep(const char* a, uint16_t p) {
  return {*IpAddress::parse(a), p};
}
}  // namespace

TEST(ProxyV2, Ipv4HeaderBytes) {
  auto h = proxy_v2_header(ep("198.18.1.2", 40000), ep("198.18.9.9", 80));
  // Signature, v2 PROXY, TCP over IPv4, 12 address bytes (proxy-protocol.txt 2.2).
  const uint8_t want[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49,
                          0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C, 198,  18,   1,    2,
                          198,  18,   9,    9,    0x9C, 0x40, 0x00, 0x50};
  ASSERT_EQ(h.size(), sizeof want);
  for (size_t i = 0; i < h.size(); ++i) EXPECT_EQ(uint8_t(h[i]), want[i]) << i;
}

TEST(ProxyV2, RoundTripsBothFamilies) {
  for (auto [c, s] : {std::pair{ep("198.18.1.2", 1), ep("198.18.9.9", 443)},
                      std::pair{ep("2001:db8::1", 5353), ep("2001:db8::9", 53)}}) {
    auto h = proxy_v2_header(c, s);
    h.push_back(std::byte{'x'});
    auto p = parse_proxy_v2(h);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->client, c);
    EXPECT_EQ(p->server, s);
    EXPECT_EQ(p->length, h.size() - 1);
  }
}

TEST(ProxyV2, EveryTruncationIsIncompleteNotACrash) {
  auto h = proxy_v2_header(ep("2001:db8::1", 5353), ep("2001:db8::9", 53));
  for (size_t n = 0; n < h.size(); ++n) EXPECT_FALSE(parse_proxy_v2(ByteView(h).first(n))) << n;
}

TEST(ProxyV2, RejectsOtherSignaturesAndCommands) {
  std::string v1 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  EXPECT_FALSE(parse_proxy_v2(std::as_bytes(std::span(v1.data(), v1.size()))));
  auto h = proxy_v2_header(ep("198.18.1.2", 1), ep("198.18.9.9", 2));
  h[12] = std::byte{0x31};  // version 3
  EXPECT_FALSE(parse_proxy_v2(h));
}
