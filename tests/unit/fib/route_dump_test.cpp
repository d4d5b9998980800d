#include "fib/route_dump.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

using namespace anycastd;
using namespace anycastd::fib;

namespace {

// One RTM_NEWROUTE as the kernel dumps it: rtmsg, then RTA_TABLE and RTA_DST.
size_t put_route(char* at, uint8_t proto, uint32_t table, uint32_t dst, uint8_t len) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(at);
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_MULTI;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = len;
  rtm->rtm_protocol = proto;
  rtm->rtm_table = RT_TABLE_MAIN;
  mnl_attr_put_u32(nlh, RTA_TABLE, table);
  uint32_t be = htonl(dst);
  mnl_attr_put(nlh, RTA_DST, 4, &be);
  return nlh->nlmsg_len;
}

}  // namespace

TEST(RouteDump, KeepsOnlyOurProtocolInOurTable) {
  FibConfig cfg;
  std::vector<char> buf(4096);
  size_t n = put_route(buf.data(), cfg.protocol, cfg.table, 0xC6120000, 24);
  n += put_route(buf.data() + n, 12, cfg.table, 0xC6130000, 24);  // BIRD's
  n += put_route(buf.data() + n, cfg.protocol, 100, 0xC6140000, 24);
  RouteDump d{&cfg, {}};
  EXPECT_TRUE(parse_route_dump(buf.data(), n, d));
  ASSERT_EQ(d.prefixes.size(), 1u);
  EXPECT_EQ(d.prefixes[0].to_string(), "198.18.0.0/24");
}

// Found by reading for the fuzz target: a message whose payload is shorter than an rtmsg
// was read as one, and a prefix length over 32 reached Prefix.
TEST(RouteDump, ShortMessagesAndImpossibleLengthsAreSkipped) {
  FibConfig cfg;
  std::vector<char> buf(4096);
  nlmsghdr* tiny = mnl_nlmsg_put_header(buf.data());
  tiny->nlmsg_type = RTM_NEWROUTE;
  tiny->nlmsg_flags = NLM_F_MULTI;
  size_t n = tiny->nlmsg_len;  // a header and nothing else
  n += put_route(buf.data() + n, cfg.protocol, cfg.table, 0xC6120000, 200);
  RouteDump d{&cfg, {}};
  parse_route_dump(buf.data(), n, d);
  EXPECT_TRUE(d.prefixes.empty());
}

// Found by fuzz_route_dump: a header whose length reads as negative to libmnl (0xffff0024)
// walked mnl_cb_run off the buffer (SEGV). The framing is checked before libmnl sees it.
TEST(RouteDump, AMessageLengthPastTheBufferStopsTheWalk) {
  const unsigned char bad[] = {0x24, 0x00, 0xff, 0xff, 0xff, 0x10, 0x01, 0x00, 0x00, 0x18, 0x00,
                               0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  alignas(4) unsigned char buf[sizeof bad];
  std::memcpy(buf, bad, sizeof bad);
  EXPECT_EQ(whole_messages(buf, sizeof buf), 0u);
  FibConfig cfg;
  RouteDump d{&cfg, {}};
  EXPECT_FALSE(parse_route_dump(buf, sizeof buf, d));
  EXPECT_TRUE(d.prefixes.empty());
}
