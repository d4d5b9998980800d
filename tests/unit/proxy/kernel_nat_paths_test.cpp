// `forwarding: nat` on the ways NVA traffic arrives in a region (seed 003's encapsulated
// design): answers that come back through another NVA than the one that translated the
// request (Azure keeps no flow symmetry across the NVAs behind a route server), and requests
// carried by a tunnel without a link-layer header (tun, as a user-space VPN makes) or by
// VXLAN. Each host is a network namespace of this test's own, addressed from 198.18.0.0/15
// and removed with it. Needs root; skipped otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "loopback_servers.hpp"
#include "netns_hosts.hpp"
#include "proxy/engine.hpp"
#include "tcp_echo.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace anycastd::proxy::testing;

namespace {

constexpr uint16_t kPort = 18340;

#define SKIP_WITHOUT_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces and BPF"

ProxyConfig nat_services(const char* vip, const Endpoint& backend) {
  ProxyConfig cfg;
  cfg.threads = 1;
  for (auto p : {Protocol::tcp, Protocol::udp}) {
    ServiceConfig s;
    s.name = p == Protocol::tcp ? "web" : "dns";
    s.listen = ep(vip, kPort);
    s.protocol = p;
    s.forwarding = Forwarding::nat;
    s.balance = Balance::maglev;
    s.backends.push_back({backend, 1, {}});
    cfg.services.push_back(s);
  }
  return cfg;
}

std::unique_ptr<Engine> start_in(const Hosts& hosts, const std::string& role,
                                 const ProxyConfig& cfg) {
  auto e = hosts.in(role, [&] { return Engine::start(cfg); });
  if (!e || !*e) {
    ADD_FAILURE() << (e ? e->error() : "no namespace");
    return nullptr;
  }
  return std::move(**e);
}

// Two NVAs of a region with the VIP, both linked to the client and to the server, on
// 198.18.N.0/24 (client-nva1), N+1 (nva1-server), N+3 (client-nva2) and N+4 (nva2-server).
// The client reaches the VIP through nva1 and nva2 reaches the client; the test routes the
// server's way back.
bool two_nvas(const Hosts& h, int n, const char* vip) {
  auto net = [n](int k, int host) {
    return "198.18." + std::to_string(n + k) + "." + std::to_string(host);
  };
  for (const char* role : {"client", "nva1", "nva2", "server"})
    if (!h.exec(role,
                "sysctl -qw net.ipv4.conf.all.rp_filter=0 "
                "net.ipv4.conf.default.rp_filter=0 net.ipv4.ip_forward=1"))
      return false;
  struct Link {
    const char *a, *a_dev, *b, *b_dev;
    int k;
  };
  for (auto l : {Link{"nva1", "n1c", "client", "c1", 0}, Link{"nva1", "n1s", "server", "s1", 1},
                 Link{"nva2", "n2c", "client", "c2", 3}, Link{"nva2", "n2s", "server", "s2", 4}})
    if (!h.ip(l.a, std::string("link add ") + l.a_dev + " type veth peer name " + l.b_dev +
                       " netns " + h.name(l.b)) ||
        !h.ip(l.a, "addr add " + net(l.k, 1) + "/24 dev " + l.a_dev) ||
        !h.ip(l.b, "addr add " + net(l.k, 2) + "/24 dev " + l.b_dev) ||
        !h.ip(l.a, std::string("link set ") + l.a_dev + " up") ||
        !h.ip(l.b, std::string("link set ") + l.b_dev + " up"))
      return false;
  return h.ip("nva1", std::string("addr add ") + vip + "/32 dev lo") &&
         h.ip("nva2", std::string("addr add ") + vip + "/32 dev lo") &&
         h.ip("client", std::string("route add ") + vip + "/32 via " + net(0, 1)) &&
         h.ip("nva2", "route add " + net(0, 0) + "/24 via " + net(3, 2));
}

// Both NVAs have the VIP and the same configuration; the client reaches the VIP through nva1,
// and the server's route to the client goes through nva2, which never saw the requests.
TEST(NatPaths, AnswersThroughTheOtherNvaAreTranslated) {
  SKIP_WITHOUT_ROOT();
  Hosts h({"client", "nva1", "nva2", "server"});
  ASSERT_TRUE(h.made());
  const char* vip = "198.18.212.1";
  ASSERT_TRUE(two_nvas(h, 210, vip));
  ASSERT_TRUE(h.ip("server", "route add default via 198.18.214.1"));
  const Endpoint backend = ep("198.18.211.2", kPort);
  auto cfg = nat_services(vip, backend);
  auto nva1 = start_in(h, "nva1", cfg);
  auto nva2 = start_in(h, "nva2", cfg);
  ASSERT_TRUE(nva1 && nva2);
  auto tcp = h.in("server", [&] {
    return std::make_unique<TcpBackend>(backend,
                                        [](const std::string& got) { return "b1 " + got; });
  });
  auto udp = h.in("server", [&] { return std::make_unique<UdpEcho>("198.18.211.2", "b1", kPort); });
  ASSERT_TRUE(tcp && (*tcp)->ok() && udp);

  const Endpoint v = ep(vip, kPort);
  EXPECT_EQ(h.in("client", [&] { return exchange(v, "hello"); }),
            std::optional<std::string>("b1 hello"));
  auto asked = h.in("client", [&] {
    UdpClient q("198.18.210.2");
    return q.ask(v, "q1");
  });
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->second, v.to_string()) << asked->first;
  EXPECT_EQ(asked->first, "b1 q1 198.18.210.2:" + asked->first.substr(asked->first.rfind(':') + 1));
  // nva1 translated the requests and saw no answer; nva2 translated the answers only.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_GT(nva1->stats(i).bytes_in, 0u) << i;
    EXPECT_EQ(nva1->stats(i).bytes_out, 0u) << i;
    EXPECT_EQ(nva2->stats(i).bytes_in, 0u) << i;
    EXPECT_GT(nva2->stats(i).bytes_out, 0u) << i;
  }
}

// The region's routers move a client from one NVA to another (an NVA added, a route
// withdrawn): its open connection arrives at an NVA that never saw it, and that NVA's Maglev
// table sends it to the same backend.
TEST(NatPaths, AConnectionMovedToAnotherNvaGoesOn) {
  SKIP_WITHOUT_ROOT();
  Hosts h({"client", "nva1", "nva2", "server"});
  ASSERT_TRUE(h.made());
  const char* vip = "198.18.222.1";
  ASSERT_TRUE(two_nvas(h, 220, vip));
  ASSERT_TRUE(h.ip("nva2", "route add 198.18.221.0/24 via 198.18.224.2") &&
              h.ip("server", "route add 198.18.220.0/24 via 198.18.221.1"));
  auto echo = h.in("server", [] { return std::make_unique<TcpEcho>("198.18.221.2", "b1"); });
  ASSERT_TRUE(echo);
  auto cfg = nat_services(vip, (*echo)->endpoint());
  auto nva1 = start_in(h, "nva1", cfg);
  auto nva2 = start_in(h, "nva2", cfg);
  ASSERT_TRUE(nva1 && nva2);
  const Endpoint v = ep(vip, kPort);
  auto client = h.in("client", [&] { return std::make_unique<TcpClient>("198.18.220.2", v); });
  ASSERT_TRUE(client && (*client)->connected());
  const std::string self = (*client)->self().to_string();
  EXPECT_EQ((*client)->ask("a"), "b1 a " + self);
  // The move: the client's way to the VIP, and the server's way back, now through nva2.
  ASSERT_TRUE(h.ip("client", std::string("route replace ") + vip + "/32 via 198.18.223.1") &&
              h.ip("server", "route replace 198.18.220.0/24 via 198.18.224.1"));
  EXPECT_EQ((*client)->ask("b"), "b1 b " + self);
  EXPECT_EQ((*client)->ask("c"), "b1 c " + self);
  EXPECT_EQ(nva2->stats(0).nat.takeovers, 1u) << "taken over once, then its own entry";
  EXPECT_GT(nva2->stats(0).bytes_out, 0u);
}

// A TUN device carries packets to user space and back, as a VPN does: the test's own
// forwarder thread copies each packet from one namespace's device to the other's.
class TunPair {
 public:
  explicit TunPair(const Hosts& h) {
    auto open_tun = [] {
      int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
      ifreq req{};
      req.ifr_flags = IFF_TUN | IFF_NO_PI;
      std::strncpy(req.ifr_name, "tun0", IFNAMSIZ - 1);
      if (fd >= 0 && ::ioctl(fd, TUNSETIFF, &req) != 0) {
        ::close(fd);
        fd = -1;
      }
      return fd;
    };
    a_ = h.in("client", open_tun).value_or(-1);
    b_ = h.in("nva", open_tun).value_or(-1);
    if (ok()) thread_ = std::thread([this] { carry(); });
  }
  ~TunPair() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : {a_, b_})
      if (fd >= 0) ::close(fd);
  }
  bool ok() const { return a_ >= 0 && b_ >= 0; }
  int carried() const { return carried_; }

 private:
  void carry() {
    char buf[65536];
    while (!done_) {
      pollfd fds[2] = {{a_, POLLIN, 0}, {b_, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0 && ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) == n) ++carried_;
      }
    }
  }
  int a_ = -1, b_ = -1;
  std::atomic<bool> done_{false};
  std::atomic<int> carried_{0};
  std::thread thread_;
};

// The client reaches the VIP over `dev` (set up by the test); the backend is on the NVA
// itself, so its answers leave through the same device's egress. The backend must see the
// client's own address, and the program count the flows: the threads would answer too
// (the service's socket), but they would show the NVA's address.
void translates_over(const Hosts& h, const std::string& client_address) {
  const char* vip = "198.18.217.1";
  const Endpoint backend = ep("198.18.217.2", kPort);
  ASSERT_TRUE(h.ip("nva", std::string("addr add ") + vip + "/32 dev lo") &&
              h.ip("nva", "addr add 198.18.217.2/32 dev lo"));
  auto engine = start_in(h, "nva", nat_services(vip, backend));
  ASSERT_TRUE(engine);
  auto tcp = h.in("nva", [&] {
    return std::make_unique<TcpBackend>(backend,
                                        [](const std::string& got) { return "b1 " + got; });
  });
  auto udp = h.in("nva", [&] { return std::make_unique<UdpEcho>("198.18.217.2", "b1", kPort); });
  ASSERT_TRUE(tcp && (*tcp)->ok() && udp);
  const Endpoint v = ep(vip, kPort);
  EXPECT_EQ(h.in("client", [&] { return exchange(v, "hello"); }),
            std::optional<std::string>("b1 hello"));
  auto asked = h.in("client", [&] {
    UdpClient q(client_address);
    auto a = q.ask(v, "q1");
    return std::make_pair(a, q.self().to_string());
  });
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->first, std::make_pair("b1 q1 " + asked->second, v.to_string()));
  EXPECT_EQ(engine->stats(0).kernel_connections, 1u) << "the program did not translate tcp";
  EXPECT_EQ(engine->stats(1).kernel_connections, 1u) << "the program did not translate udp";
  EXPECT_EQ(engine->stats(0).active, 0u);
}

TEST(NatPaths, TranslatesThroughATunDevice) {
  SKIP_WITHOUT_ROOT();
  Hosts h({"client", "nva"});
  ASSERT_TRUE(h.made());
  TunPair tun(h);
  ASSERT_TRUE(tun.ok());
  ASSERT_TRUE(h.ip("client", "addr add 198.18.216.2/24 dev tun0") &&
              h.ip("nva", "addr add 198.18.216.1/24 dev tun0") &&
              h.ip("client", "link set tun0 up") && h.ip("nva", "link set tun0 up") &&
              h.ip("client", "route add 198.18.217.0/24 dev tun0"));
  translates_over(h, "198.18.216.2");
  EXPECT_GT(tun.carried(), 4);
}

TEST(NatPaths, TranslatesThroughAVxlanDevice) {
  SKIP_WITHOUT_ROOT();
  Hosts h({"client", "nva"});
  ASSERT_TRUE(h.made());
  const std::string nva = h.name("nva");
  ASSERT_TRUE(h.ip("client", "link add u0 type veth peer name u1 netns " + nva) &&
              h.ip("client", "addr add 198.18.218.2/24 dev u0") &&
              h.ip("nva", "addr add 198.18.218.1/24 dev u1") && h.ip("client", "link set u0 up") &&
              h.ip("nva", "link set u1 up"));
  ASSERT_TRUE(h.ip("client",
                   "link add vx0 type vxlan id 42 local 198.18.218.2 remote 198.18.218.1 "
                   "dstport 4789 dev u0") &&
              h.ip("nva",
                   "link add vx0 type vxlan id 42 local 198.18.218.1 remote 198.18.218.2 "
                   "dstport 4789 dev u1"));
  ASSERT_TRUE(h.ip("client", "addr add 198.18.219.2/24 dev vx0") &&
              h.ip("nva", "addr add 198.18.219.1/24 dev vx0") &&
              h.ip("client", "link set vx0 up") && h.ip("nva", "link set vx0 up") &&
              h.ip("client", "route add 198.18.217.0/24 via 198.18.219.1"));
  translates_over(h, "198.18.219.2");
}

}  // namespace
