// The netns mode's own plumbing, in real namespaces (root only): the segment must behave
// like the separate links it stands for.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "lab/netns.hpp"

using namespace anycastd;
using namespace anycastd::lab;

namespace {

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

std::string output_of(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  return out;
}

// A kernel counter of one namespace (nstat: absolute, history untouched).
long counter(const std::string& ns, const std::string& name) {
  auto out = output_of("ip netns exec " + ns + " nstat -asz " + name);
  auto at = out.find(name + " ");
  return at == std::string::npos ? -1 : std::stol(out.substr(at + name.size()));
}

}  // namespace

// Every device shares one bridge, so a router forwarding back out of eth0 would send ICMP
// redirects and hosts would start bypassing it (a lab client stuck on one region whatever
// the on-prem router's routes said). Redirects are off: the host keeps its gateway.
TEST(LabNetns, HostsKeepTheirGatewayOnTheSharedSegment) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  Netns spaces;
  ASSERT_TRUE(spaces.create_fabric());
  auto host = spaces.add("host", ip("198.18.0.1"), false);
  auto router = spaces.add("router", ip("198.18.0.2"), true);
  auto nva = spaces.add("nva", ip("198.18.0.3"), true);
  ASSERT_TRUE(host && router && nva);
  const IpAddress vip = ip("198.19.255.1");
  ASSERT_TRUE(spaces.add_local(*nva, vip));
  ASSERT_TRUE(spaces.default_route(*host, ip("198.18.0.2")));
  ASSERT_EQ(std::system(("ip -n " + *router + " route add 198.19.255.1/32 via 198.18.0.3").c_str()),
            0);
  NetnsHttpServer server(*nva, vip, 80, "hello", "region-1");
  ASSERT_TRUE(server.start());
  // Without the fix the router sent five redirects in this second of requests (20 ms
  // apart, doubling), and a host that took one went past it.
  for (int i = 0; i < 20; ++i) {
    NetnsReply r;
    std::thread([&] { r = netns_http_get(*host, vip, 80); }).join();
    ASSERT_TRUE(r.ok) << r.why;
    EXPECT_EQ(r.region, "region-1");
    ::usleep(50000);
  }
  EXPECT_EQ(counter(*router, "IcmpOutRedirects"), 0);
  EXPECT_EQ(counter(*host, "IcmpInRedirects"), 0);
  // Every request crossed the router: at least the SYN, the request and the final ACK.
  EXPECT_GE(counter(*router, "IpForwDatagrams"), 60);
  auto route = output_of("ip -n " + *host + " route get 198.19.255.1");
  EXPECT_NE(route.find("via 198.18.0.2 "), std::string::npos) << route;
}
