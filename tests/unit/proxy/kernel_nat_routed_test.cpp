// `forwarding: nat` as deployed: the client, the NVA and the backend are three hosts (network
// namespaces of this test's own, addressed from 198.18.0.0/15, removed with it), the VIP is a
// local address of the NVA, and the NVA routes between two links. Those links appear only
// after the engine started, as a tunnel or a NIC brought up later would. Needs root (network
// namespaces, CAP_BPF, CAP_NET_ADMIN); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "loopback_servers.hpp"
#include "netns_hosts.hpp"
#include "proxy/engine.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace anycastd::proxy::testing;

namespace {

constexpr uint16_t kPort = 18330;
const char* const kVip = "198.18.202.1";
const char* const kClient = "198.18.200.2";
const char* const kBackend = "198.18.201.2";
const char* const kLocalBackend = "198.18.202.2";  // on the NVA itself

// Client, NVA and server, with the VIP and a backend on the NVA itself.
class Routed : public Hosts {
 public:
  Routed() : Hosts({"client", "nva", "server"}) {
    ready_ = made() && ip("nva", std::string("addr add ") + kVip + "/32 dev lo") &&
             ip("nva", std::string("addr add ") + kLocalBackend + "/32 dev lo") &&
             exec("nva", "sysctl -qw net.ipv4.ip_forward=1");
  }
  bool ready() const { return ready_; }

  // The links, client-NVA on 198.18.200.0/24 and NVA-server on 198.18.201.0/24, each end up.
  bool link() {
    const std::string c = name("client"), s = name("server");
    return ip("nva", "link add nva0 type veth peer name client0 netns " + c) &&
           ip("nva", "link add nva1 type veth peer name server0 netns " + s) &&
           ip("nva", "addr add 198.18.200.1/24 dev nva0") &&
           ip("nva", "addr add 198.18.201.1/24 dev nva1") &&
           ip("client", std::string("addr add ") + kClient + "/24 dev client0") &&
           ip("server", std::string("addr add ") + kBackend + "/24 dev server0") &&
           ip("nva", "link set nva0 up") && ip("nva", "link set nva1 up") &&
           ip("client", "link set client0 up") && ip("server", "link set server0 up") &&
           ip("client", "route add default via 198.18.200.1") &&
           ip("server", "route add default via 198.18.201.1");
  }

 private:
  bool ready_ = false;
};

struct Notices {
  std::mutex mu;
  std::vector<std::string> said;
  bool heard(const std::string& what) {
    std::lock_guard l(mu);
    for (const auto& s : said)
      if (s.find(what) != std::string::npos) return true;
    return false;
  }
};

ServiceConfig service(Protocol p, const Endpoint& backend, uint16_t port = kPort) {
  ServiceConfig s;
  s.name = std::string(p == Protocol::udp ? "dns" : "web") + std::to_string(port);
  s.listen = ep(kVip, port);
  s.protocol = p;
  s.forwarding = Forwarding::nat;
  s.backends.push_back({backend, 1, {}});
  return s;
}

}  // namespace

TEST(NatRouted, InterfacesThatAppearAfterStartTranslateBetweenHosts) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces and BPF";
  Routed hosts;
  ASSERT_TRUE(hosts.ready());
  const Endpoint backend = ep(kBackend, kPort), local = ep(kLocalBackend, kPort);
  Notices notices;
  auto engine = hosts.in("nva", [&] {
    ProxyConfig cfg;
    cfg.threads = 1;
    cfg.services.push_back(service(Protocol::udp, backend));
    cfg.services.push_back(service(Protocol::tcp, backend));
    cfg.services.push_back(service(Protocol::udp, local, kPort + 1));
    cfg.services.push_back(service(Protocol::tcp, local, kPort + 1));
    return Engine::start(cfg, nullptr, [&](bool trouble, const std::string& what) {
      std::lock_guard l(notices.mu);
      notices.said.push_back((trouble ? "trouble: " : "") + what);
    });
  });
  ASSERT_TRUE(engine && *engine) << (engine ? engine->error() : "no namespace");

  ASSERT_TRUE(hosts.link());
  EXPECT_TRUE(eventually([&] {
    return notices.heard("now on nva0") && notices.heard("now on nva1");
  })) << "the engine was not told of the new links";
  EXPECT_FALSE(notices.heard("trouble"));
  auto udp = hosts.in("server", [&] { return std::make_unique<UdpEcho>(kBackend, "b1", kPort); });
  auto tcp = hosts.in("server", [&] {
    return std::make_unique<TcpBackend>(backend,
                                        [](const std::string& got) { return "b1 " + got; });
  });
  ASSERT_TRUE(udp && tcp && (*tcp)->ok());

  // The backend sees the client itself; the client sees the VIP answer. The answer leaves the
  // backend's link with the VIP, an address of the NVA's own, as its source: the NVA must send
  // it on rather than take it for a spoofed packet.
  auto client = hosts.in("client", [] { return std::make_unique<UdpClient>(kClient); });
  ASSERT_TRUE(client);
  const Endpoint vip = ep(kVip, kPort);
  auto self = (*client)->self().to_string();
  EXPECT_EQ((*client)->ask(vip, "q1"), std::make_pair("b1 q1 " + self, vip.to_string()));
  EXPECT_EQ((*client)->ask(vip, "q2"), std::make_pair("b1 q2 " + self, vip.to_string()));

  EXPECT_EQ((*udp)->received(), 2);

  // A TCP connection is only made if the SYN-ACK comes back from the VIP.
  auto answer = hosts.in("client", [&] { return exchange(vip, "hello"); });
  EXPECT_EQ(answer, std::optional<std::string>("b1 hello"));
  EXPECT_EQ((*tcp)->accepted(), 1);

  // A backend on the NVA itself answers through no ingress: its answers are translated on
  // their way out.
  auto local_udp =
      hosts.in("nva", [&] { return std::make_unique<UdpEcho>(kLocalBackend, "l1", kPort); });
  auto local_tcp = hosts.in("nva", [&] {
    return std::make_unique<TcpBackend>(local, [](const std::string& got) { return "l1 " + got; });
  });
  ASSERT_TRUE(local_udp && local_tcp && (*local_tcp)->ok());
  const Endpoint vip2 = ep(kVip, kPort + 1);
  EXPECT_EQ((*client)->ask(vip2, "q3"), std::make_pair("l1 q3 " + self, vip2.to_string()));
  EXPECT_EQ(hosts.in("client", [&] { return exchange(vip2, "hi"); }),
            std::optional<std::string>("l1 hi"));
}
