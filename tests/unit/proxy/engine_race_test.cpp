// The proxy under concurrent load while the control plane changes it: client threads keep
// connections flowing through two forwarding threads (least connections, whose counts are
// shared across threads, and Maglev) while the control thread flips backend health, admin
// states and weights, drains and undrains and reads the counters. Built with ThreadSanitizer too
// (`make tsan`), where any data race between the threads fails the run; bounded in count.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "loopback_servers.hpp"
#include "proxy/engine.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace anycastd::proxy::testing;
using namespace std::chrono_literals;

namespace {

void churn(Balance balance, const char* vip, const char* b1, const char* b2, const char* b3) {
  TcpBackend a(ep(b1, 0), [](const std::string&) { return "a"; });
  TcpBackend b(ep(b2, 0), [](const std::string&) { return "b"; });
  TcpBackend c(ep(b3, 0), [](const std::string&) { return "c"; });
  ServiceConfig s;
  s.name = "web";
  s.listen = ep(vip, 18090);
  s.balance = balance;
  for (const auto* t : {&a, &b, &c}) s.backends.push_back({t->endpoint(), 1, {}});
  ProxyConfig cfg;
  cfg.threads = 2;
  cfg.services.push_back(s);
  auto e = Engine::start(cfg);
  ASSERT_TRUE(e) << e.error();
  auto& engine = **e;

  constexpr int kClients = 4, kEach = 150;
  std::atomic<int> answered{0}, refused{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&] {
      for (int k = 0; k < kEach; ++k) {
        auto got = exchange(s.listen, "GET\n");
        if (got.empty()) {
          ++refused;  // drained or no healthy backend at that instant: refused at once
        } else if (got == "a" || got == "b" || got == "c") {
          ++answered;
        } else {
          ++wrong;
        }
      }
    });
  // The control plane, meanwhile: what the health link, a drain and a reload would do.
  for (int round = 0; round < 60; ++round) {
    engine.set_backend_health(0, round % 3, round % 2 == 0);
    if (round % 10 == 5) engine.drain(0);
    if (round % 10 == 7) engine.undrain(0);
    // The operator's runtime commands (and agent checks) on the same snapshots.
    engine.set_backend_admin(0, (round + 1) % 3,
                             round % 4 == 1   ? AdminState::drain
                             : round % 4 == 3 ? AdminState::maint
                                              : AdminState::ready);
    engine.set_backend_weight(0, (round + 2) % 3, static_cast<uint32_t>(round % 5));
    // A reload that takes the third backend out, and one that brings it back (its slot).
    if (round % 20 == 3) {
      ASSERT_TRUE(engine.reconfigure_backends(0, {s.backends[0], s.backends[1]}));
    }
    if (round % 20 == 13) {
      ASSERT_TRUE(engine.reconfigure_backends(0, s.backends));
    }
    // Read while the threads write: counters are separate atomics, so only their end
    // values are asserted, below.
    (void)engine.stats(0);
    (void)engine.active_connections();
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(engine.reconfigure_backends(0, s.backends));
  for (int b2i = 0; b2i < 3; ++b2i) {
    engine.set_backend_health(0, b2i, true);
    engine.set_backend_admin(0, b2i, AdminState::ready);
    engine.set_backend_weight(0, b2i, 1);
  }
  engine.undrain(0);
  for (auto& t : clients) t.join();

  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(answered.load(), 0);
  auto end = std::chrono::steady_clock::now() + 3s;
  while (engine.active_connections() != 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(engine.active_connections(), 0u);
  auto st = engine.stats(0);
  uint64_t per_backend = 0;
  for (const auto& bs : st.backends) per_backend += bs.connections;
  // Every answered connection went to a backend and was counted there, and every one a
  // client saw end unanswered was refused by the proxy and counted as such: none lost
  // silently, none counted twice, whatever the control plane did meanwhile.
  EXPECT_EQ(per_backend, static_cast<uint64_t>(answered.load()));
  EXPECT_EQ(st.refused, static_cast<uint64_t>(refused.load()));
}

}  // namespace

TEST(ProxyEngineRace, LeastConnectionsUnderChurn) {
  churn(Balance::least_conn, "127.0.13.200", "127.0.13.201", "127.0.13.202", "127.0.13.203");
}

TEST(ProxyEngineRace, MaglevUnderChurn) {
  churn(Balance::maglev, "127.0.13.210", "127.0.13.211", "127.0.13.212", "127.0.13.213");
}
