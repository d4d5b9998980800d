// The netns mode's own plumbing, in real namespaces (root only): the segment must behave
// like the separate links it stands for.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

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

// The lost request of issue 16, at its lowest layer: anycast moves a flow to another NVA
// when the router's route changes, and that NVA, which never saw the handshake, resets the
// connection. The lab's simulator models exactly this (SimLab::request).
TEST(LabNetns, ConnectionSpanningARouteChangeIsResetByTheOtherNva) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  Netns spaces;
  ASSERT_TRUE(spaces.create_fabric());
  auto host = spaces.add("host", ip("198.18.0.1"), false);
  auto router = spaces.add("router", ip("198.18.0.2"), true);
  auto nva1 = spaces.add("nva-1", ip("198.18.0.3"), true);
  auto nva2 = spaces.add("nva-2", ip("198.18.0.4"), true);
  ASSERT_TRUE(host && router && nva1 && nva2);
  const IpAddress vip = ip("198.19.255.1");
  ASSERT_TRUE(spaces.add_local(*nva1, vip));
  ASSERT_TRUE(spaces.add_local(*nva2, vip));
  ASSERT_TRUE(spaces.default_route(*host, ip("198.18.0.2")));
  auto route_via = [&](const char* nh) {
    return std::system(
        ("ip -n " + *router + " route replace 198.19.255.1/32 via " + std::string(nh)).c_str());
  };
  ASSERT_EQ(route_via("198.18.0.3"), 0);
  NetnsHttpServer s1(*nva1, vip, 80, "one", "region-1"), s2(*nva2, vip, 80, "two", "region-2");
  ASSERT_TRUE(s1.start());
  ASSERT_TRUE(s2.start());
  int err = 0;
  std::string got;
  std::thread([&] {
    int fd = ::open(("/run/netns/" + *host).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) return;
    ::close(fd);
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{2, 0};
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(80);
    sa.sin_addr.s_addr = htonl(vip.v4_value());
    if (::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      err = errno;
      return;
    }
    route_via("198.18.0.4");  // the route moves between the handshake and the request
    std::string req = "GET / HTTP/1.1\r\nHost: lab\r\n\r\n";
    (void)::send(s, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[1024];
    ssize_t n = ::recv(s, buf, sizeof buf, 0);
    if (n < 0) err = errno;
    if (n > 0) got.assign(buf, static_cast<size_t>(n));
    ::close(s);
  }).join();
  EXPECT_EQ(err, ECONNRESET) << "answer: " << got;
  // A connection that starts after the move is served by nva-2.
  NetnsReply r;
  std::thread([&] { r = netns_http_get(*host, vip, 80); }).join();
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.region, "region-2");
}

// A lab killed by a signal leaves its namespaces; the next lab removes those of labs whose
// process is gone, and leaves a running lab's alone.
TEST(LabNetns, NamespacesOfADeadLabAreRemovedByTheNext) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // its PID now names no process
  std::string dead = "acl" + std::to_string(child) + "-0";
  std::string alive = "acl" + std::to_string(::getpid()) + "-stale-test";
  ASSERT_EQ(std::system(("ip netns add " + dead).c_str()), 0);
  ASSERT_EQ(std::system(("ip netns add " + alive).c_str()), 0);
  EXPECT_GE(Netns::remove_stale(), 1u);
  EXPECT_NE(::access(("/run/netns/" + dead).c_str(), F_OK), 0) << "dead lab's namespace kept";
  EXPECT_EQ(::access(("/run/netns/" + alive).c_str(), F_OK), 0) << "a live lab's was removed";
  (void)std::system(("ip netns del " + alive + " 2>/dev/null").c_str());
  (void)std::system(("ip netns del " + dead + " 2>/dev/null").c_str());
}
