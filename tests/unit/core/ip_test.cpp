#include "core/ip.hpp"

#include <gtest/gtest.h>

using namespace anycastd;

TEST(Ip, ParsesAndFormatsBothFamilies) {
  EXPECT_EQ(IpAddress::parse("198.18.9.9")->to_string(), "198.18.9.9");
  EXPECT_EQ(IpAddress::parse("2001:2::9")->to_string(), "2001:2::9");
  EXPECT_FALSE(IpAddress::parse("198.18.9"));
  EXPECT_FALSE(IpAddress::parse("bogus"));
  EXPECT_EQ(IpAddress::parse("10.0.0.1")->v4_value(), 0x0A000001u);
}

TEST(Prefix, RejectsHostBitsAndBadLengths) {
  EXPECT_EQ(Prefix::parse("10.13.76.0/24")->to_string(), "10.13.76.0/24");
  EXPECT_FALSE(Prefix::parse("10.13.76.4/24"));
  EXPECT_FALSE(Prefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(Prefix::parse("10.0.0.0/"));
  EXPECT_EQ(Prefix::parse("9.9.9.9")->length(), 32);
  EXPECT_EQ(Prefix::parse("2001:2::/48")->length(), 48);
}

TEST(Prefix, ConstructorMasksHostBits) {
  Prefix p(*IpAddress::parse("10.13.76.4"), 22);
  EXPECT_EQ(p.to_string(), "10.13.76.0/22");
  EXPECT_EQ(p, *Prefix::parse("10.13.76.0/22"));
  // The IPv4 path's edges: no bits, all bits, a length past the family's.
  EXPECT_EQ(Prefix(*IpAddress::parse("255.255.255.255"), 0).to_string(), "0.0.0.0/0");
  EXPECT_EQ(Prefix(*IpAddress::parse("10.1.2.3"), 32).to_string(), "10.1.2.3/32");
  EXPECT_EQ(Prefix(*IpAddress::parse("10.1.2.3"), 40).to_string(), "10.1.2.3/32");
  EXPECT_EQ(Prefix(*IpAddress::parse("10.1.2.255"), 31).to_string(), "10.1.2.254/31");
  EXPECT_EQ(Prefix(*IpAddress::parse("2001:db8::ffff"), 120).to_string(), "2001:db8::ff00/120");
}
