// The kernel's UDP path (`forwarding: kernel` on a udp service): a tc program translates
// addresses, so the backend sees the client itself and the client sees the VIP answer. These
// tests need CAP_BPF and CAP_NET_ADMIN (root in CI) and skip without them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "loopback_servers.hpp"
#include "proxy/engine.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace anycastd::proxy::testing;
using namespace std::chrono_literals;

namespace {

constexpr uint16_t kPort = 18320;

// A UDP backend that answers "<name> <query> <the address it came from>".
class UdpEcho {
 public:
  UdpEcho(const std::string& address, std::string name) : name_(std::move(name)) {
    auto b = bound_udp(ep(address, 0));
    fd_ = b.fd;
    endpoint_ = b.endpoint;
    set_timeout(fd_, 50);
    thread_ = std::thread([this] { serve(); });
  }
  ~UdpEcho() {
    done_ = true;
    thread_.join();
    ::close(fd_);
  }
  const Endpoint& endpoint() const { return endpoint_; }
  int received() const { return received_; }

 private:
  void serve() {
    char buf[512];
    while (!done_) {
      SockAddr from;
      from.length = sizeof from.storage;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, from.get(), &from.length);
      if (n <= 0) continue;
      ++received_;
      std::string answer = name_ + " " + std::string(buf, static_cast<size_t>(n)) + " " +
                           from_sockaddr(from.get()).to_string();
      ::sendto(fd_, answer.data(), answer.size(), 0, from.get(), from.length);
    }
  }
  std::string name_;
  int fd_ = -1;
  Endpoint endpoint_;
  std::atomic<bool> done_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

// A client socket at `address`, port chosen by the kernel.
class Client {
 public:
  explicit Client(const std::string& address) {
    auto b = bound_udp(ep(address, 0));
    fd_ = b.fd;
    self_ = b.endpoint;
    set_timeout(fd_, 1000);
  }
  ~Client() { ::close(fd_); }
  const Endpoint& self() const { return self_; }
  // The answer and where it came from; empty when none came within the timeout.
  std::pair<std::string, std::string> ask(const Endpoint& vip, const std::string& q) {
    auto to = to_sockaddr(vip);
    ::sendto(fd_, q.data(), q.size(), 0, to.get(), to.length);
    char buf[512];
    SockAddr from;
    from.length = sizeof from.storage;
    ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, from.get(), &from.length);
    if (n <= 0) return {};
    return {std::string(buf, static_cast<size_t>(n)), from_sockaddr(from.get()).to_string()};
  }

 private:
  int fd_ = -1;
  Endpoint self_;
};

ServiceConfig udp_service(const std::string& vip, std::vector<std::pair<Endpoint, uint32_t>> bs) {
  ServiceConfig s;
  s.name = "dns";
  s.listen = ep(vip, kPort);
  s.protocol = Protocol::udp;
  s.forwarding = Forwarding::kernel;
  s.hash = HashOn::five_tuple;
  for (auto& [e, w] : bs) s.backends.push_back({e, w, {}});
  return s;
}

Result<std::unique_ptr<Engine>, std::string> start(const ServiceConfig& s) {
  ProxyConfig cfg;
  cfg.threads = 1;
  cfg.services.push_back(s);
  return Engine::start(cfg);
}

#define SKIP_WITHOUT_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "the kernel's UDP path needs CAP_BPF and CAP_NET_ADMIN"

TEST(UdpKernelPath, AnswersComeFromTheVipAndTheBackendSeesTheClient) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b("127.0.32.11", "b1");
  auto e = start(udp_service("127.0.32.1", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ((*e)->stats(0).forwarding, "kernel");
  Client c("127.0.32.100");
  const Endpoint vip = ep("127.0.32.1", kPort);
  size_t asked = 0, answered = 0;
  for (int i = 0; i < 3; ++i) {
    std::string q = "q" + std::to_string(i);
    auto [answer, from] = c.ask(vip, q);
    std::string want = "b1 " + q + " " + c.self().to_string();
    EXPECT_EQ(answer, want);
    EXPECT_EQ(from, vip.to_string());
    asked += q.size();
    answered += want.size();
  }
  EXPECT_EQ(b.received(), 3);
  auto st = (*e)->stats(0);
  EXPECT_EQ(st.backends[0].connections, 1u);  // one flow for one client
  EXPECT_EQ(st.kernel_connections, 1u);
  EXPECT_EQ(st.bytes_in, asked);
  EXPECT_EQ(st.bytes_out, answered);
}

TEST(UdpKernelPath, WeightsSpreadClientsAndAnUnhealthyBackendsFlowsMove) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b1("127.0.32.21", "b1"), b2("127.0.32.22", "b2");
  auto e = start(udp_service("127.0.32.2", {{b1.endpoint(), 1}, {b2.endpoint(), 3}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.2", kPort);
  std::vector<std::unique_ptr<Client>> clients;
  std::map<std::string, int> by;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<Client>("127.0.32.100"));
    auto [answer, from] = clients.back()->ask(vip, "q");
    ASSERT_EQ(from, vip.to_string()) << answer;
    ++by[answer.substr(0, 2)];
  }
  // 1:3 by weight; a hash of 200 ports lands within a wide margin of 50:150.
  EXPECT_GT(by["b1"], 20);
  EXPECT_GT(by["b2"], 110);
  EXPECT_EQ(by["b1"] + by["b2"], 200);

  (*e)->set_backend_health(0, 1, false);
  for (auto& c : clients) EXPECT_EQ(c->ask(vip, "r").first.substr(0, 2), "b1");
  EXPECT_EQ((*e)->stats(0).backends[0].connections, 200u);  // b2's flows started anew on b1

  // None healthy: a query is the threads' to refuse, as on the user-space path.
  (*e)->set_backend_health(0, 0, false);
  EXPECT_EQ(clients.front()->ask(vip, "s").first, "");
  EXPECT_EQ((*e)->stats(0).refused, 1u);
}

TEST(UdpKernelPath, DrainKeepsOpenFlowsAndRefusesNewOnes) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b("127.0.32.31", "b1");
  auto e = start(udp_service("127.0.32.3", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.3", kPort);
  Client old("127.0.32.100");
  EXPECT_EQ(old.ask(vip, "a").second, vip.to_string());
  (*e)->drain(0);
  EXPECT_EQ(old.ask(vip, "b").first, "b1 b " + old.self().to_string());
  Client fresh("127.0.32.101");
  EXPECT_EQ(fresh.ask(vip, "c").first, "");
  EXPECT_EQ(b.received(), 2);
  EXPECT_EQ((*e)->stats(0).refused, 1u);
}

// The program is attached by a link that lives as long as the engine: once it is gone,
// nothing translates the VIP's datagrams any more.
TEST(UdpKernelPath, StopsWithTheEngine) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b("127.0.32.41", "b1");
  const Endpoint vip = ep("127.0.32.4", kPort);
  Client c("127.0.32.100");
  {
    auto e = start(udp_service("127.0.32.4", {{b.endpoint(), 1}}));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(c.ask(vip, "a").second, vip.to_string());
  }
  EXPECT_EQ(c.ask(vip, "b").first, "");
  EXPECT_EQ(b.received(), 1);
}

// Each engine attaches its own program to every interface; each must let the other's
// datagrams on to it.
TEST(UdpKernelPath, TwoEnginesShareTheInterfaces) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b1("127.0.32.51", "b1"), b2("127.0.32.52", "b2");
  auto e1 = start(udp_service("127.0.32.5", {{b1.endpoint(), 1}}));
  auto e2 = start(udp_service("127.0.32.6", {{b2.endpoint(), 1}}));
  ASSERT_TRUE(e1) << e1.error();
  ASSERT_TRUE(e2) << e2.error();
  Client c("127.0.32.100");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(c.ask(ep("127.0.32.5", kPort), "a"),
              std::make_pair("b1 a " + c.self().to_string(), std::string("127.0.32.5:18320")));
    EXPECT_EQ(c.ask(ep("127.0.32.6", kPort), "b"),
              std::make_pair("b2 b " + c.self().to_string(), std::string("127.0.32.6:18320")));
  }
}

}  // namespace
