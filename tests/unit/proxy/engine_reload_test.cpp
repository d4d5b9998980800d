// A reload's new backends for a running service, on the forwarding threads with real
// sockets (127.0.35.0/24): connections to backends that stay never notice, a removed
// backend gets no new connection and its open ones are closed after the service's
// drain-time, an added one takes its share at once.
#include <gtest/gtest.h>

#include <map>

#include "loopback_servers.hpp"
#include "proxy/engine.hpp"
#include "tcp_echo.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace anycastd::proxy::testing;
using namespace std::chrono_literals;

namespace {

BackendConfig backend(const TcpEcho& e) {
  return {e.endpoint(), 1, {}};
}

// Each test has a VIP of its own: ctest runs them side by side, and two engines on one
// address (SO_REUSEPORT) would split its connections.
std::unique_ptr<Engine> start(const char* vip, std::vector<BackendConfig> backends, Forwarding f) {
  ServiceConfig s;
  s.name = "web";
  s.listen = ep(vip, 18190);
  s.backends = std::move(backends);
  s.drain_time = 1s;
  s.forwarding = f;
  ProxyConfig cfg;
  cfg.threads = 1;  // one round robin: an exact split
  cfg.services.push_back(std::move(s));
  auto e = Engine::start(std::move(cfg));
  EXPECT_TRUE(e) << (e ? "" : e.error());
  return e ? std::move(*e) : nullptr;
}

void reload_under_traffic(const char* address, Forwarding f) {
  TcpEcho b1("127.0.35.11", "b1"), b2("127.0.35.12", "b2"), b3("127.0.35.13", "b3");
  auto e = start(address, {backend(b1), backend(b2)}, f);
  ASSERT_TRUE(e);
  const Endpoint vip = ep(address, 18190);
  std::vector<std::unique_ptr<TcpClient>> open;
  std::vector<std::string> on;
  for (int i = 0; i < 8; ++i) {
    open.push_back(std::make_unique<TcpClient>("127.0.35.100", vip));
    ASSERT_TRUE(open.back()->connected());
    on.push_back(open.back()->ask("a").substr(0, 2));
  }
  ASSERT_EQ(std::count(on.begin(), on.end(), "b1"), 4);

  auto c = e->reconfigure_backends(0, {backend(b2), backend(b3)});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->added, std::vector<std::string>{b3.endpoint().to_string()});
  EXPECT_EQ(c->removed, std::vector<std::string>{b1.endpoint().to_string()});
  EXPECT_TRUE(c->changed.empty());
  EXPECT_EQ(e->config().services[0].backends.size(), 3u) << "b1 keeps its slot while it drains";
  EXPECT_TRUE(e->stats(0).backends[0].removed);

  // Every open connection goes on for now, each on its own backend.
  for (size_t i = 0; i < open.size(); ++i)
    EXPECT_EQ(open[i]->ask("b").substr(0, 2), on[i]) << "connection " << i;
  // New connections: b2 and b3, never b1.
  std::map<std::string, int> fresh;
  for (int i = 0; i < 12; ++i) {
    TcpClient n("127.0.35.101", vip);
    ++fresh[n.ask("c").substr(0, 2)];
  }
  EXPECT_EQ(fresh["b1"], 0);
  EXPECT_EQ(fresh["b2"], 6);
  EXPECT_EQ(fresh["b3"], 6);
  // After drain-time, b1's connections are closed; b2's never notice.
  EXPECT_TRUE(eventually([&] { return e->stats(0).backends[0].active == 0; }, 5s));
  for (size_t i = 0; i < open.size(); ++i) {
    auto got = open[i]->ask("d");
    if (on[i] == "b1")
      EXPECT_EQ(got, "") << "connection " << i << " to the removed backend";
    else
      EXPECT_EQ(got.substr(0, 2), on[i]) << "connection " << i;
  }
}

TEST(EngineReload, BackendsChangeUnderTrafficOnTheThreads) {
  reload_under_traffic("127.0.35.1", Forwarding::user);
}

// The sockmap path: established connections are the kernel's; a removed backend's are
// closed all the same (the threads own their sockets).
TEST(EngineReload, BackendsChangeUnderTrafficOnTheSockmapPath) {
  if (::geteuid() != 0) GTEST_SKIP() << "the sockmap needs CAP_BPF";
  reload_under_traffic("127.0.35.2", Forwarding::kernel);
}

// A reload that needs more slots than the service has changes nothing.
TEST(EngineReload, TooManyBackendsAreRefusedAndNothingChanges) {
  TcpEcho b1("127.0.35.21", "b1");
  auto e = start("127.0.35.3", {backend(b1)}, Forwarding::user);
  ASSERT_TRUE(e);
  std::vector<BackendConfig> many;
  for (uint32_t i = 0; i <= kBackendSlots; ++i)
    many.push_back({ep("127.0.35.22", static_cast<uint16_t>(20000 + i)), 1, {}});
  auto c = e->reconfigure_backends(0, many);
  ASSERT_FALSE(c);
  EXPECT_EQ(e->config().services[0].backends.size(), 1u);
  TcpClient n("127.0.35.100", ep("127.0.35.3", 18190));
  EXPECT_EQ(n.ask("a").substr(0, 2), "b1");
}

}  // namespace
