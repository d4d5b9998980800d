#include "health/checker.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "health/monitor.hpp"
#include "runtime/sim/sim_network.hpp"

using namespace anycastd;
using namespace anycastd::health;
using namespace std::chrono_literals;

namespace {

// Answers each check after `latency` with the next scripted result (the last repeats).
struct Scripted : Probe {
  Loop& loop;
  std::deque<bool> script;
  Duration latency = 300ms;
  std::vector<TimePoint>* starts;
  TimerId t = 0;
  Scripted(Loop& l, std::deque<bool> s, std::vector<TimePoint>* st)
      : loop(l), script(std::move(s)), starts(st) {}
  void start(std::function<void(CheckResult)> done) override {
    starts->push_back(loop.now());
    bool ok = script.front();
    if (script.size() > 1) script.pop_front();
    if (latency < 0s) return;  // never answers
    t = loop.schedule(latency, [done, ok, this] {
      done(ok ? CheckResult::success(latency) : CheckResult::fail(Failure::refused, "refused"));
    });
  }
  void cancel() override { loop.cancel(t); }
};

CheckConfig cfg(uint32_t rise = 2, uint32_t fall = 3) {
  CheckConfig c;
  c.name = "web";
  c.target = {*IpAddress::parse("198.18.1.10"), 80};
  c.rise = rise;
  c.fall = fall;
  c.interval = 1s;
  c.timeout = 500ms;
  c.fast_interval = 20ms;
  return c;
}

// Probes that answer after 1 ms with the script each check is given.
Monitor::ProbeFactory scripted(Loop& loop,
                               std::function<std::deque<bool>(const CheckConfig&)> script_of,
                               std::vector<TimePoint>* starts) {
  return [&loop, script_of, starts](const CheckConfig& c) {
    auto p = std::make_unique<Scripted>(loop, script_of(c), starts);
    p->latency = 1ms;
    return p;
  };
}

double ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

TEST(Checker, ChecksStayOnTheIntervalGridHoweverLongEachTakes) {
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  Checker c(loop, cfg(), std::make_unique<Scripted>(loop, std::deque<bool>{true}, &starts),
            nullptr);
  TimePoint t0 = loop.now();
  c.start();
  loop.run_for(10s + 1ms);
  ASSERT_EQ(starts.size(), 11u);
  for (size_t i = 0; i < starts.size(); ++i) EXPECT_EQ(starts[i] - t0, i * 1s) << i;
  EXPECT_TRUE(c.state().up());
}

TEST(Checker, JitterStaysWithinBoundsAndDoesNotAccumulate) {
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  auto c0 = cfg();
  c0.jitter = 100ms;
  Checker c(loop, c0, std::make_unique<Scripted>(loop, std::deque<bool>{true}, &starts), nullptr);
  TimePoint t0 = loop.now();
  c.start();
  loop.run_for(100s);
  ASSERT_GE(starts.size(), 99u);
  bool some_off_grid = false;
  for (size_t i = 1; i < starts.size(); ++i) {
    Duration off = starts[i] - t0 - i * 1s;
    EXPECT_LE(std::abs(ms(off)), 100.0) << i;
    some_off_grid |= off != 0s;
  }
  EXPECT_TRUE(some_off_grid);
}

TEST(Checker, AFailureWhileUpIsConfirmedAtTheFastInterval) {
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  auto probe = std::make_unique<Scripted>(loop, std::deque<bool>{true, true, false}, &starts);
  probe->latency = 1ms;
  Checker c(loop, cfg(2, 3), std::move(probe), nullptr);
  std::optional<TimePoint> down;
  c.on_result = [&](Checker& k, bool flipped) {
    if (flipped && !k.state().up()) down = loop.now();
  };
  TimePoint t0 = loop.now();
  c.start();
  loop.run_for(3s);
  ASSERT_TRUE(down);
  // First failure at the 2 s check (+1 ms), then two more 20 ms apart, not 2 s more.
  EXPECT_EQ(ms(*down - t0), 2000 + 1 + 21 + 21);
}

TEST(Checker, ANoAnswerIsATimeoutFailure) {
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  auto probe = std::make_unique<Scripted>(loop, std::deque<bool>{true}, &starts);
  probe->latency = -1s;
  Checker c(loop, cfg(1, 1), std::move(probe), nullptr);
  c.start();
  loop.run_for(600ms);
  ASSERT_TRUE(c.state().last());
  EXPECT_EQ(c.state().last()->failure, Failure::timeout);
}

TEST(Checker, TcpWatchDetectsABackendCrashWithinMilliseconds) {
  sim::SimLoop loop;
  sim::SimNetwork net(loop, 1ms);
  auto target = Endpoint{*IpAddress::parse("198.18.1.10"), 8080};
  std::vector<std::unique_ptr<Stream>> accepted;
  auto listener = net.listen(target, [&](auto s) { accepted.push_back(std::move(s)); });
  ASSERT_TRUE(listener.ok());
  auto c0 = cfg(2, 3);
  c0.target = target;
  Checker c(loop, c0, make_tcp_probe(loop, net, c0), &net);
  std::optional<TimePoint> down;
  c.on_result = [&](Checker& k, bool flipped) {
    if (flipped && !k.state().up()) down = loop.now();
  };
  c.start();
  loop.run_for(5s);
  ASSERT_TRUE(c.state().up());
  // The backend process dies: its listening socket and every connection go.
  TimePoint crash = loop.now();
  listener->reset();
  for (auto& s : accepted) s->close();
  accepted.clear();
  loop.run_for(500ms);
  ASSERT_TRUE(down) << "still up " << c.state().failures();
  EXPECT_LT(ms(*down - crash), 100.0);
  EXPECT_EQ(c.state().last()->failure, Failure::refused);
}

TEST(Checker, PassiveFailuresCountButOneAloneDoesNotTakeABackendDown) {
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  auto probe = std::make_unique<Scripted>(loop, std::deque<bool>{true}, &starts);
  probe->latency = 1ms;
  Checker c(loop, cfg(1, 2), std::move(probe), nullptr);
  c.start();
  loop.run_for(1500ms);
  ASSERT_TRUE(c.state().up());
  c.passive_failure("Connection reset by peer");
  EXPECT_TRUE(c.state().up());
  EXPECT_EQ(c.state().failures(), 1u);
  loop.run_for(100ms);  // the fast re-check passes
  EXPECT_TRUE(c.state().up());
  EXPECT_EQ(c.state().failures(), 0u);
}

TEST(Checker, PassiveFailuresThatTakeItDownKeepTheNextSlot) {
  // Regression: rescheduling before the pending slot came skipped it, so a backend taken
  // down by the proxy's failures waited two intervals for its next check, not one.
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  auto probe = std::make_unique<Scripted>(loop, std::deque<bool>{true}, &starts);
  probe->latency = 1ms;
  Checker c(loop, cfg(1, 2), std::move(probe), nullptr);
  TimePoint t0 = loop.now();
  c.start();
  loop.run_for(1100ms);  // checks at 0 and 1 s
  c.passive_failure("Connection refused");
  c.passive_failure("Connection refused");
  ASSERT_FALSE(c.state().up());
  loop.run_for(1000ms);
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_EQ(starts[2] - t0, 2s) << "the 2 s slot, not the 3 s one";
  EXPECT_TRUE(c.state().up());
}

TEST(Monitor, VipFollowsItsRuleAndDrainsOnRequest) {
  sim::SimLoop loop;
  std::map<std::string, std::deque<bool>> scripts{{"a", {true}}, {"b", {true, true, true, false}}};
  std::vector<TimePoint> starts;
  HealthConfig hc;
  for (auto n : {"a", "b"}) {
    auto c = cfg(1, 1);
    c.name = n;
    hc.checks.push_back(c);
  }
  VipHealthConfig v;
  v.checks = {"a", "b"};
  v.rule = VipHealthConfig::Rule::all;
  v.drain_time = 5s;
  auto vip = *Prefix::parse("198.18.9.9/32");
  hc.vips[vip] = v;
  Monitor m(loop, hc,
            scripted(
                loop, [&](const CheckConfig& c) { return scripts[c.name]; }, &starts),
            nullptr);
  std::vector<std::pair<Duration, VipAnnouncement>> seen;
  TimePoint t0 = loop.now();
  m.on_announce = [&](const Prefix&, const VipAnnouncement& a, const VipHealth&) {
    seen.push_back({loop.now() - t0, a});
  };
  m.start();
  loop.run_for(2500ms);
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen.back().second.announce);
  size_t n = seen.size();
  loop.run_for(1s);  // b fails at 3 s: `all` no longer holds
  ASSERT_EQ(seen.size(), n + 1);
  EXPECT_FALSE(seen.back().second.announce);
  EXPECT_EQ(seen.back().first, 3001ms);
  EXPECT_EQ(m.vip(vip)->reason(), "1 of 2 healthy");
  scripts.clear();
}

TEST(Monitor, DrainAllOfNothingAnnouncedWaitsForNothing) {
  // Regression: SIGTERM waited the full drain-time for a VIP already withdrawn.
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  HealthConfig hc;
  hc.checks.push_back(cfg(1, 1));
  VipHealthConfig v;
  v.checks = {"web"};
  v.drain_time = 5s;
  hc.vips[*Prefix::parse("198.18.9.9/32")] = v;
  Monitor m(loop, hc,
            scripted(
                loop, [](const CheckConfig&) { return std::deque<bool>{false}; }, &starts),
            nullptr);
  m.start();
  loop.run_for(100ms);
  EXPECT_EQ(m.drain_all(), Duration::zero());
}

TEST(Monitor, DrainAllWithdrawsAfterTheDrainTime) {
  sim::SimLoop loop;
  std::vector<TimePoint> starts;
  HealthConfig hc;
  hc.checks.push_back(cfg(1, 1));
  VipHealthConfig v;
  v.checks = {"web"};
  v.drain_time = 5s;
  auto vip = *Prefix::parse("198.18.9.9/32");
  hc.vips[vip] = v;
  Monitor m(loop, hc,
            scripted(
                loop, [](const CheckConfig&) { return std::deque<bool>{true}; }, &starts),
            nullptr);
  std::vector<VipAnnouncement> seen;
  m.on_announce = [&](const Prefix&, const VipAnnouncement& a, const VipHealth&) {
    seen.push_back(a);
  };
  m.start();
  loop.run_for(100ms);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].announce);
  EXPECT_EQ(m.drain_all(), 5s);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].communities, std::vector<uint32_t>{kGracefulShutdown});
  loop.run_for(4900ms);
  EXPECT_EQ(seen.size(), 2u);
  loop.run_for(200ms);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen[2].announce);
  EXPECT_EQ(m.vip(vip)->status(), VipStatus::drained);
}

// Reload of checks: a check whose settings change carries on from its verdict (the VIP is
// not withdrawn for a new interval); a new check aimed elsewhere starts down; a VIP whose
// rule changed is judged again at once.
TEST(Monitor, ReconfigureKeepsVerdictsAndJudgesChangedVipsAgain) {
  sim::SimLoop loop;
  std::map<std::string, std::deque<bool>> scripts{{"a", {true}}, {"b", {false}}};
  std::vector<TimePoint> starts;
  auto check = [](const char* name, const char* addr) {
    auto c = cfg(1, 1);
    c.name = name;
    c.target = {*IpAddress::parse(addr), 80};
    return c;
  };
  HealthConfig hc;
  hc.checks = {check("a", "198.18.1.10")};
  VipHealthConfig v;
  v.checks = {"a"};
  auto vip = *Prefix::parse("198.18.9.9/32");
  hc.vips[vip] = v;
  Monitor m(loop, hc,
            scripted(
                loop, [&](const CheckConfig& c) { return scripts[c.name]; }, &starts),
            nullptr);
  std::vector<VipAnnouncement> seen;
  m.on_announce = [&](const Prefix&, const VipAnnouncement& a, const VipHealth&) {
    seen.push_back(a);
  };
  m.start();
  loop.run_for(2500ms);
  ASSERT_FALSE(seen.empty());
  ASSERT_TRUE(seen.back().announce);
  size_t n = seen.size();

  auto slower = hc;
  slower.checks[0].interval = 2s;
  EXPECT_EQ(m.reconfigure(slower), std::vector<std::string>{"check a changed"});
  loop.run_for(5s);
  EXPECT_EQ(seen.size(), n) << "a new interval must not withdraw a healthy VIP";
  EXPECT_EQ(m.checker("a")->config().interval, 2s);
  EXPECT_TRUE(m.checker("a")->state().up());

  auto both = slower;
  both.checks.push_back(check("b", "198.18.1.11"));
  both.vips[vip].checks = {"a", "b"};
  both.vips[vip].rule = VipHealthConfig::Rule::all;
  EXPECT_EQ(m.reconfigure(both),
            (std::vector<std::string>{"check b added", "VIP 198.18.9.9/32 health changed"}));
  ASSERT_EQ(seen.size(), n + 1);
  EXPECT_FALSE(seen.back().announce) << "b has not risen: `all` does not hold";
  EXPECT_EQ(m.vip(vip)->reason(), "1 of 2 healthy");

  HealthConfig gone;
  gone.checks = both.checks;
  auto out = m.reconfigure(gone);
  EXPECT_EQ(out, std::vector<std::string>{"VIP 198.18.9.9/32 health removed"});
  EXPECT_EQ(m.vip(vip), nullptr);
  scripts.clear();
}
