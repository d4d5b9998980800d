#include "bfd/packet.hpp"

#include <gtest/gtest.h>

namespace anycastd::bfd {
namespace {

ControlPacket sample() {
  ControlPacket p;
  p.diag = Diag::detection_expired;
  p.state = State::up;
  p.poll = true;
  p.detect_mult = 3;
  p.my_disc = 0x01020304;
  p.your_disc = 0xa0b0c0d0;
  p.desired_min_tx = 300000;
  p.required_min_rx = 250000;
  return p;
}

TEST(BfdPacket, EncodesTheFieldsOfRfc5880Section4_1) {
  auto b = encode(sample());
  ASSERT_EQ(b.size(), 24u);
  EXPECT_EQ(uint8_t(b[0]), 0x21);  // version 1, diag 1
  EXPECT_EQ(uint8_t(b[1]), 0xe0);  // state Up (3 << 6) | P
  EXPECT_EQ(uint8_t(b[2]), 3);
  EXPECT_EQ(uint8_t(b[3]), 24);
  EXPECT_EQ(uint8_t(b[4]), 1);
  EXPECT_EQ(uint8_t(b[11]), 0xd0);
  // 300000 us = 0x000493e0
  EXPECT_EQ(uint8_t(b[14]), 0x93);
  EXPECT_EQ(uint8_t(b[15]), 0xe0);
}

TEST(BfdPacket, RoundTrips) {
  auto p = sample();
  auto d = decode(encode(p));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d, p);
}

TEST(BfdPacket, DiscardsWhatSection6_8_6Discards) {
  auto bad = [](auto mutate) {
    auto b = encode(sample());
    mutate(b);
    auto d = decode(b);
    return d ? std::string("accepted") : d.error();
  };
  EXPECT_EQ(bad([](Bytes& b) { b.pop_back(); }), "shorter than 24 bytes");
  EXPECT_EQ(bad([](Bytes& b) { b[0] = std::byte(0x41); }), "version 2, not 1");
  EXPECT_EQ(bad([](Bytes& b) { b[3] = std::byte(20); }), "length field 20 is too small");
  EXPECT_EQ(bad([](Bytes& b) { b[3] = std::byte(30); }),
            "length field 30 exceeds the datagram (24 bytes)");
  EXPECT_EQ(bad([](Bytes& b) { b[2] = std::byte(0); }), "detect multiplier is zero");
  EXPECT_EQ(bad([](Bytes& b) { b[1] |= std::byte(1); }), "multipoint bit set");
  EXPECT_EQ(bad([](Bytes& b) { std::fill(b.begin() + 4, b.begin() + 8, std::byte(0)); }),
            "my discriminator is zero");
  EXPECT_EQ(bad([](Bytes& b) { std::fill(b.begin() + 8, b.begin() + 12, std::byte(0)); }),
            "your discriminator is zero in state Up");
  EXPECT_EQ(bad([](Bytes& b) {
              b[1] |= std::byte(0x04);
              b[3] = std::byte(26);
              b.resize(26);
            }),
            "authenticated, and no authentication is set");
  EXPECT_EQ(bad([](Bytes& b) { b[1] |= std::byte(0x10); }), "poll and final both set");
}

TEST(BfdPacket, YourDiscriminatorMayBeZeroWhileDown) {
  auto p = sample();
  p.state = State::down;
  p.poll = false;
  p.your_disc = 0;
  EXPECT_TRUE(decode(encode(p)));
}

TEST(BfdPacket, ATrailingAuthenticationLengthIsNotRead) {
  // A longer datagram than the length field: the rest is ignored, as in BIRD and FRR.
  auto b = encode(sample());
  b.resize(40);
  EXPECT_TRUE(decode(b));
}

}  // namespace
}  // namespace anycastd::bfd
