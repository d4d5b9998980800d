#include "config/config.hpp"

#include <gtest/gtest.h>

using namespace anycastd;
using namespace anycastd::config;

namespace {

const char* kGood = R"(router-id: 172.16.156.70
local-as: 65010
listen: {address: 127.0.0.1, port: 1790}
peers:
  - address: 172.16.159.4
    remote-as: 65515
  - address: 172.16.159.5
    remote-as: 65515
    hold-time: 9
    passive: true
vips:
  - prefix: 9.9.9.9/32
    prepend: 2
    communities: ["65010:100", graceful-shutdown]
    large-communities: ["65010:1:2"]
    med: 10
)";

ConfigError error_of(const std::string& text) {
  auto r = load_string(text, "nva.yaml");
  EXPECT_FALSE(r.ok());
  return r.ok() ? ConfigError{} : r.error();
}

}  // namespace

TEST(Config, Seed004NvaLoads) {
  auto r = load_string(kGood, "nva.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->bgp.local_as, 65010u);
  ASSERT_EQ(r->bgp.peers.size(), 2u);
  EXPECT_EQ(r->bgp.peers[0].hold_time, 90);
  EXPECT_EQ(r->bgp.peers[1].hold_time, 9);
  EXPECT_EQ(r->bgp.vips[0].prepend, 2u);
  EXPECT_EQ(r->bgp.vips[0].communities[1], 0xFFFF0000u);
}

TEST(Config, PrintedFormReadsBackToTheSameConfig) {
  auto a = load_string(kGood, "nva.yaml");
  auto printed = print(*a);
  auto b = load_string(printed, "printed.yaml");
  ASSERT_TRUE(b.ok()) << b.error().to_string() << "\n" << printed;
  EXPECT_EQ(print(*b), printed);
}

struct BadCase {
  const char* name;
  std::string text;
  int line, column;
  std::string field;
  std::string message_part;
};

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, IsRejectedAtItsPosition) {
  auto e = error_of(GetParam().text);
  EXPECT_EQ(e.file, "nva.yaml");
  EXPECT_EQ(e.line, GetParam().line) << e.to_string();
  EXPECT_EQ(e.column, GetParam().column) << e.to_string();
  EXPECT_EQ(e.field, GetParam().field) << e.to_string();
  EXPECT_NE(e.message.find(GetParam().message_part), std::string::npos) << e.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfig,
    ::testing::Values(
        BadCase{"unknown_key", "router-id: 1.2.3.4\nlocal-as: 1\nlocla-pref: 3\n", 3, 1,
                "locla-pref", "unknown key"},
        BadCase{
            "bad_address",
            "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - address: 10.0.0.300\n    remote-as: 2\n",
            4, 14, "peers[0].address", "not an IPv4 or IPv6 address"},
        BadCase{"asn_range", "router-id: 1.2.3.4\nlocal-as: 4294967296\n", 2, 11, "local-as",
                "out of range"},
        BadCase{"duplicate_peer",
                "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - {address: 10.0.0.1, remote-as: 2}\n"
                "  - {address: 10.0.0.1, remote-as: 3}\n",
                5, 15, "peers[1].address", "duplicate peer"},
        BadCase{"vip_not_host", "router-id: 1.2.3.4\nlocal-as: 1\nvips:\n  - prefix: 9.9.9.0/24\n",
                4, 13, "vips[0].prefix", "/32 or /128"},
        BadCase{"hold_time_2",
                "router-id: 1.2.3.4\nlocal-as: 1\npeers:\n  - {address: 10.0.0.1, remote-as: 2, "
                "hold-time: 2}\n",
                4, 50, "peers[0].hold-time", "at least 3"},
        BadCase{"bad_community",
                "router-id: 1.2.3.4\nlocal-as: 1\nvips:\n  - prefix: 9.9.9.9/32\n    communities: "
                "[\"65536:1\"]\n",
                5, 19, "vips[0].communities[0]", "not a community"},
        BadCase{"yaml_syntax", "router-id: [1.2.3.4\nlocal-as: 1\n", 2, 9, "", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Config, MissingFileNamesTheFile) {
  auto r = load_file("/nonexistent/anycastd.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(), "/nonexistent/anycastd.yaml: cannot open file");
}
