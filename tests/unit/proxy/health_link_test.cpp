// The glue between checks and the proxy: health gates backends, and the proxy's failed
// connects count against the backend's checks at once (passive health).
#include "proxy/health_link.hpp"
#include "proxy/engine.hpp"

#include <gtest/gtest.h>

#include "loopback_servers.hpp"
#include "runtime/sim/sim_loop.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace std::chrono_literals;

namespace {

// Always passes, 1 ms after it starts.
struct Passing : health::Probe {
  Loop& loop;
  TimerId t = 0;
  explicit Passing(Loop& l) : loop(l) {}
  void start(std::function<void(health::CheckResult)> done) override {
    t = loop.schedule(1ms, [done] { done(health::CheckResult::success(1ms)); });
  }
  void cancel() override { loop.cancel(t); }
};

}  // namespace

TEST(HealthLink, ChecksGateBackendsAndProxyFailuresCountAgainstThem) {
  sim::SimLoop loop;
  health::HealthConfig hc;
  health::CheckConfig web;
  web.name = "web";
  web.target = proxy::testing::ep("127.0.13.171", 80);
  web.rise = 1;
  web.fall = 2;
  web.interval = 1s;
  web.timeout = 500ms;
  hc.checks.push_back(web);
  health::Monitor m(
      loop, hc, [&](const health::CheckConfig&) { return std::make_unique<Passing>(loop); },
      nullptr);

  ProxyConfig pc;
  pc.threads = 1;
  ServiceConfig s;
  s.name = "web";
  s.listen = proxy::testing::ep("127.0.13.17", 18080);
  s.backends = {{proxy::testing::ep("127.0.13.171", 80), 1, {"web"}},
                {proxy::testing::ep("127.0.13.172", 80), 1, {}}};
  pc.services.push_back(s);
  auto engine = Engine::start(pc);
  ASSERT_TRUE(engine) << engine.error();
  EXPECT_FALSE((*engine)->stats(0).backends[0].healthy) << "unused until its check passes";
  EXPECT_TRUE((*engine)->stats(0).backends[1].healthy) << "no checks: always used";

  HealthLink link(m, **engine);
  std::vector<std::string> logged;
  link.on_log = [&](const ServiceConfig&, const BackendConfig& b, const std::string& why) {
    logged.push_back(b.endpoint.to_string() + " " + why);
  };
  m.on_check = [&](const health::Checker& c, bool flipped) { link.on_check(c, flipped); };
  m.start();
  link.refresh();
  loop.run_for(1100ms);  // the first check comes within one interval
  ASSERT_TRUE(m.checker("web")->state().up());
  EXPECT_TRUE((*engine)->stats(0).backends[0].healthy);

  // Two refused connects seen by the proxy: `fall` failures without waiting for the next
  // interval, so the backend is out at once; the log says so once, not per failure.
  link.on_failure(0, 0, "Connection refused");
  link.on_failure(0, 0, "Connection refused");
  EXPECT_EQ(m.checker("web")->state().results(health::Failure::refused), 2u);
  EXPECT_FALSE(m.checker("web")->state().up());
  EXPECT_FALSE((*engine)->stats(0).backends[0].healthy);
  EXPECT_EQ(logged, std::vector<std::string>{"127.0.13.171:80 Connection refused"});
  // The next real check passes (rise 1): the backend is used again.
  loop.run_for(1100ms);
  EXPECT_TRUE(m.checker("web")->state().up())
      << m.checker("web")->state().checks() << " " << m.checker("web")->state().last()->describe();
  EXPECT_TRUE((*engine)->stats(0).backends[0].healthy);
}

// The log's rate limit runs on the loop's clock: in virtual time (the lab), a failure a
// virtual second after the last logged one is logged again, however little wall time passed.
TEST(HealthLink, LogRateLimitFollowsTheLoopsClock) {
  sim::SimLoop loop;
  health::HealthConfig hc;
  health::CheckConfig web;
  web.name = "web";
  web.target = proxy::testing::ep("127.0.13.171", 80);
  web.interval = 1s;
  web.timeout = 500ms;
  hc.checks.push_back(web);
  health::Monitor m(
      loop, hc, [&](const health::CheckConfig&) { return std::make_unique<Passing>(loop); },
      nullptr);
  ProxyConfig pc;
  pc.threads = 1;
  ServiceConfig s;
  s.name = "web";
  s.listen = proxy::testing::ep("127.0.13.17", 18081);
  s.backends = {{proxy::testing::ep("127.0.13.171", 80), 1, {"web"}}};
  pc.services.push_back(s);
  auto engine = Engine::start(pc);
  ASSERT_TRUE(engine) << engine.error();
  HealthLink link(m, **engine);
  int logged = 0;
  link.on_log = [&](const ServiceConfig&, const BackendConfig&, const std::string&) { ++logged; };
  m.start();
  link.on_failure(0, 0, "Connection refused");
  loop.run_for(500ms);
  link.on_failure(0, 0, "Connection refused");
  EXPECT_EQ(logged, 1) << "within the second: not again";
  loop.run_for(600ms);
  link.on_failure(0, 0, "Connection refused");
  EXPECT_EQ(logged, 2) << "a virtual second later: logged again";
  // A report for a backend the configuration no longer has is dropped, not thrown.
  link.on_failure(0, 7, "Connection refused");
  link.on_failure(3, 0, "Connection refused");
  EXPECT_EQ(logged, 2);
}

namespace {

// An agent that answers what the test sets, 1 ms after each check starts.
struct Agent : health::Probe {
  Loop& loop;
  std::string* says;
  TimerId t = 0;
  Agent(Loop& l, std::string* s) : loop(l), says(s) {}
  void start(std::function<void(health::CheckResult)> done) override {
    t = loop.schedule(1ms, [this, done] {
      auto r = health::CheckResult::success(1ms);
      r.agent = *health::parse_agent_reply(*says);
      done(r);
    });
  }
  void cancel() override { loop.cancel(t); }
};

}  // namespace

// What a backend's agent says of itself reaches the forwarding as the operator's word does:
// drain takes it out of rotation, a percentage scales its configured weight, and the change
// is told once for the log.
TEST(HealthLink, AgentAnswersSetTheBackendsStateAndWeight) {
  sim::SimLoop loop;
  std::string says = "drain 50%";
  health::HealthConfig hc;
  health::CheckConfig agent;
  agent.name = "agent";
  agent.type = health::CheckType::agent;
  agent.target = proxy::testing::ep("127.0.13.181", 9777);
  agent.rise = 1;
  agent.interval = 1s;
  agent.timeout = 500ms;
  hc.checks.push_back(agent);
  health::Monitor m(
      loop, hc, [&](const health::CheckConfig&) { return std::make_unique<Agent>(loop, &says); },
      nullptr);
  ProxyConfig pc;
  pc.threads = 1;
  ServiceConfig s;
  s.name = "web";
  s.listen = proxy::testing::ep("127.0.13.18", 18082);
  s.backends = {{proxy::testing::ep("127.0.13.181", 80), 4, {"agent"}},
                {proxy::testing::ep("127.0.13.182", 80), 1, {}}};
  pc.services.push_back(s);
  auto engine = Engine::start(pc);
  ASSERT_TRUE(engine) << engine.error();
  HealthLink link(m, **engine);
  std::vector<std::string> changes;
  link.on_change = [&](const ServiceConfig&, const BackendConfig& b, const std::string& what) {
    changes.push_back(b.endpoint.to_string() + " " + what);
  };
  m.on_check = [&](const health::Checker& c, bool flipped) { link.on_check(c, flipped); };
  m.start();
  link.refresh();
  loop.run_for(1100ms);
  auto st = (*engine)->stats(0).backends[0];
  EXPECT_TRUE(st.healthy);
  EXPECT_EQ(st.admin, AdminState::drain);
  EXPECT_EQ(st.weight, 2u) << "50% of the configured 4";
  loop.run_for(3s);  // the same answer again: nothing new to tell
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "127.0.13.181:80 drain with weight 2 (set by its agent check agent)");
  says = "ready 100%";
  loop.run_for(1100ms);
  st = (*engine)->stats(0).backends[0];
  EXPECT_EQ(st.admin, AdminState::ready);
  EXPECT_EQ(st.weight, 4u);
  EXPECT_EQ((*engine)->stats(0).backends[1].admin, AdminState::ready) << "not the other one";
}
