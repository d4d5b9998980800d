// The daemon on the simulated runtime against a route server: its life from start to
// stopped, as an operator drives it with signals, and what the route server sees.
#include "daemon/daemon.hpp"
#include "daemon/healthz.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "runtime/sim/sim_network.hpp"
#include "wire/test_util.hpp"

using namespace anycastd;
using namespace anycastd::bgp::test;
using namespace std::chrono_literals;
using Phase = daemon::Daemon::Phase;

namespace {

// Connections stay open until the test closes them, so the shutdown must wait.
class CountingForwarder : public proxy::Forwarder {
 public:
  explicit CountingForwarder(proxy::ProxyConfig c) : cfg_(std::move(c)) {}
  const proxy::ProxyConfig& config() const override { return cfg_; }
  size_t threads() const override { return 1; }
  void set_backend_health(size_t, size_t b, bool h) override { healthy[b] = h; }
  bool set_backend_admin(size_t, size_t, proxy::AdminState) override { return false; }
  bool set_backend_weight(size_t, size_t, uint32_t) override { return false; }
  void close_backend_connections(size_t, size_t) override {}
  void drain(size_t) override {}
  void undrain(size_t) override {}
  void drain_all() override { drained = true; }
  uint64_t active_connections() const override { return *active; }
  proxy::ServiceStats stats(size_t) const override { return {}; }
  Result<proxy::BackendChanges, std::string> reconfigure_backends(
      size_t s, const std::vector<proxy::BackendConfig>& b) override {
    proxy::BackendSlots slots{cfg_.services.at(s).backends, {}};
    for (const auto& c : slots.configs) slots.control.push_back({true, {}, c.weight});
    auto changes = proxy::plan_backends(slots, b, {}, {}, 256);
    if (changes) cfg_.services[s].backends = slots.configs;
    return changes;
  }
  std::shared_ptr<uint64_t> active = std::make_shared<uint64_t>(0);
  std::map<size_t, bool> healthy;
  bool drained = false;

 private:
  proxy::ProxyConfig cfg_;
};

class FakePlatform : public daemon::Platform {
 public:
  FakePlatform(Loop& l, Transport& t) : loop(l), transport(t) {}
  std::unique_ptr<health::Probe> probe(const health::CheckConfig& c) override {
    return health::make_network_probe(loop, transport, c);
  }
  Result<std::unique_ptr<fib::FibWriter>, std::string> kernel_routes(
      const fib::FibConfig&) override {
    return Err(std::string("no kernel here"));
  }
  Result<std::unique_ptr<proxy::Forwarder>, std::string> forwarding(
      const proxy::ProxyConfig& c, proxy::BackendFailure) override {
    auto f = std::make_unique<CountingForwarder>(c);
    active = f->active;
    forwarder = f.get();
    return std::unique_ptr<proxy::Forwarder>(std::move(f));
  }
  void ready() override { ++readies; }
  void stopping(const std::string& why) override { stops.push_back(why); }
  Loop& loop;
  Transport& transport;
  std::shared_ptr<uint64_t> active;
  CountingForwarder* forwarder = nullptr;
  int readies = 0;
  std::vector<std::string> stops;
};

const char* kNva = R"(router-id: 198.18.0.1
local-as: 65010
listen: {address: 198.18.0.1}
peers:
  - {address: 198.18.0.2, remote-as: 65515, hold-time: 9, connect-retry: 1}
checks:
  web: {type: tcp, address: 198.18.0.10, port: 80, interval: 0.5, rise: 1, fall: 1}
vips:
  - prefix: 9.9.9.9/32
    health: {checks: [web], drain-time: 10}
)";

const char* kService = R"(services:
  - name: web
    address: 9.9.9.9
    port: 80
    backends: [{address: 198.18.0.10, port: 80, checks: [web]}]
)";

struct DaemonTest : ::testing::Test {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 1ms};
  std::unique_ptr<Transport> nva = net.host(A("198.18.0.1"));
  std::unique_ptr<Transport> rs_host = net.host(A("198.18.0.2"));
  std::unique_ptr<Transport> backend_host = net.host(A("198.18.0.10"));
  std::unique_ptr<Listener> backend;
  std::unique_ptr<bgp::Speaker> rs;
  std::vector<std::unique_ptr<Stream>> accepted;
  FakePlatform platform{loop, *nva};
  int stopped = 0;

  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    bgp::SpeakerConfig c;
    c.local_as = 65515;
    c.router_id = 0xC6120002;
    c.listen_address = A("198.18.0.2");
    c.policies["accept"] = policy::accept_all();
    bgp::PeerConfig p;
    p.address = A("198.18.0.1");
    p.remote_as = 65010;
    p.passive = true;
    p.import_policy = "accept";
    c.peers = {p};
    rs = std::make_unique<bgp::Speaker>(loop, *rs_host, c);
    ASSERT_TRUE(rs->start());
    auto l = backend_host->listen({A("198.18.0.10"), 80}, [this](std::unique_ptr<Stream> s) {
      accepted.push_back(std::move(s));
    });
    ASSERT_TRUE(l);
    backend = std::move(*l);
  }

  std::unique_ptr<daemon::Daemon> make(const std::string& yaml) {
    auto cfg = config::load_string(yaml, "nva.yaml");
    EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().to_string());
    auto d = std::make_unique<daemon::Daemon>(loop, *nva, platform, std::move(*cfg));
    d->on_stopped = [this] { ++stopped; };
    return d;
  }
  bool rs_has_vip() const {
    const rib::Entry* e = rs->rib().find(P("9.9.9.9/32"));
    return e && e->best();
  }
  bool rs_sees_graceful_shutdown() const {
    const rib::Entry* e = rs->rib().find(P("9.9.9.9/32"));
    if (!e || !e->best()) return false;
    const auto& c = e->best()->attrs->communities;
    return std::find(c.begin(), c.end(), 0xFFFF0000u) != c.end();
  }
  void run_for(Duration d) { loop.run_until(loop.now() + d); }
};

}  // namespace

TEST_F(DaemonTest, StopDrainsThenWithdrawsThenLeavesOnce) {
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  EXPECT_EQ(d->phase(), Phase::running);
  EXPECT_EQ(platform.readies, 1);
  run_for(5s);
  ASSERT_TRUE(rs_has_vip());

  d->stop();
  EXPECT_EQ(d->phase(), Phase::draining);
  run_for(2s);
  // Draining: still announced, now with GRACEFUL_SHUTDOWN so routers prefer another region.
  EXPECT_TRUE(rs_sees_graceful_shutdown());
  EXPECT_EQ(stopped, 0);

  run_for(10s);
  EXPECT_EQ(d->phase(), Phase::stopped);
  EXPECT_EQ(stopped, 1);
  EXPECT_FALSE(rs_has_vip());
  EXPECT_EQ(platform.stops.size(), 2u);  // draining, then withdrawing
}

TEST_F(DaemonTest, StopAgainWhileDrainingWithdrawsAtOnce) {
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  run_for(5s);
  d->stop();
  run_for(1s);
  ASSERT_TRUE(rs_has_vip());
  d->stop();
  EXPECT_EQ(d->phase(), Phase::withdrawing);
  run_for(1s);
  EXPECT_EQ(d->phase(), Phase::stopped);
  EXPECT_FALSE(rs_has_vip());
  EXPECT_EQ(stopped, 1);
}

TEST_F(DaemonTest, OpenConnectionsAreWaitedForAfterTheWithdrawalUnlessAskedAgain) {
  auto d = make(std::string(kNva) + kService);
  ASSERT_TRUE(d->start());
  ASSERT_NE(platform.forwarder, nullptr);
  run_for(5s);
  // The backend's check passed: the health link put it in rotation.
  EXPECT_TRUE(platform.forwarder->healthy.at(0));
  *platform.active = 3;
  d->stop();
  d->stop();  // skip the drain
  run_for(2s);
  EXPECT_FALSE(rs_has_vip());
  EXPECT_EQ(d->phase(), Phase::finishing);
  EXPECT_TRUE(platform.forwarder->drained);
  EXPECT_EQ(stopped, 0);
  *platform.active = 0;
  run_for(100ms);
  EXPECT_EQ(d->phase(), Phase::stopped);
  EXPECT_EQ(stopped, 1);

  auto again = make(std::string(kNva) + kService);
  ASSERT_TRUE(again->start());
  run_for(5s);
  *platform.active = 1;
  again->stop();
  again->stop();
  run_for(2s);
  ASSERT_EQ(again->phase(), Phase::finishing);
  again->stop();  // impatient: open connections are not waited for
  EXPECT_EQ(again->phase(), Phase::stopped);
}

TEST_F(DaemonTest, KernelTableThatCannotOpenFailsTheStartWithItsReason) {
  auto d = make(std::string(kNva) + "fib: kernel\n");
  auto r = d->start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "fib: no kernel here");
  EXPECT_EQ(platform.readies, 0);
}

TEST_F(DaemonTest, ReloadReportsWhatChangedAndRefusesWhatOnlyARestartCan) {
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  run_for(5s);
  auto none = d->reload();
  EXPECT_FALSE(none.applied);
  EXPECT_NE(none.error.find("no configuration file"), std::string::npos);

  std::string more = kNva;
  more.replace(more.find("peers:\n"), 7,
               "peers:\n  - {address: 198.18.0.3, remote-as: 65515, passive: true}\n");
  auto next = config::load_string(more, "nva.yaml");
  ASSERT_TRUE(next);
  auto r = d->apply(std::move(*next));
  EXPECT_TRUE(r.applied) << r.error;
  EXPECT_EQ(r.added, std::vector<std::string>{"198.18.0.3 AS65515"});
  EXPECT_TRUE(r.removed.empty());
  EXPECT_TRUE(rs_has_vip());  // the unchanged peer kept its session and the route

  std::string other_as = kNva;
  other_as.replace(other_as.find("local-as: 65010"), 15, "local-as: 65011");
  auto bad = d->apply(*config::load_string(other_as, "nva.yaml"));
  EXPECT_FALSE(bad.applied);
  EXPECT_FALSE(bad.error.empty());
  EXPECT_EQ(d->config().bgp.local_as, 65010u);
}

// A reload that changes a service's backends applies them in place and says so per service;
// any other change to a service still needs a restart, and a refused reload changes nothing.
TEST_F(DaemonTest, ReloadAppliesBackendChangesInPlace) {
  auto d = make(std::string(kNva) + kService);
  ASSERT_TRUE(d->start());
  run_for(5s);
  std::string more = std::string(kNva) + kService;
  more.replace(more.find("backends: [{address: 198.18.0.10, port: 80, checks: [web]}]"), 59,
               "backends: [{address: 198.18.0.10, port: 80, checks: [web]}, "
               "{address: 198.18.0.11, port: 80, weight: 2}]");
  auto next = config::load_string(more, "nva.yaml");
  ASSERT_TRUE(next) << next.error().to_string();
  auto r = d->apply(std::move(*next));
  ASSERT_TRUE(r.applied) << r.error;
  ASSERT_EQ(r.backends.size(), 1u);
  EXPECT_EQ(r.backends[0].service, "web");
  EXPECT_EQ(r.backends[0].added, std::vector<std::string>{"198.18.0.11:80"});
  EXPECT_TRUE(r.backends[0].removed.empty());
  ASSERT_EQ(platform.forwarder->config().services[0].backends.size(), 2u);
  EXPECT_TRUE(rs_has_vip()) << "the VIP stays announced through the reload";
  // The same file again: nothing to do.
  auto same = d->apply(*config::load_string(more, "nva.yaml"));
  ASSERT_TRUE(same.applied) << same.error;
  EXPECT_TRUE(same.backends.empty());

  std::string port = more;
  port.replace(port.find("    port: 80\n"), 13, "    port: 81\n");
  auto bad = d->apply(*config::load_string(port, "nva.yaml"));
  EXPECT_FALSE(bad.applied);
  EXPECT_NE(bad.error.find("restart to apply it"), std::string::npos) << bad.error;
  EXPECT_EQ(platform.forwarder->config().services[0].backends.size(), 2u);
}

TEST_F(DaemonTest, BgpStopsAndComesBackWhileTheChecksKeepTheirState) {
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  run_for(5s);
  ASSERT_TRUE(rs_has_vip());
  d->stop_bgp();
  run_for(1s);
  EXPECT_FALSE(d->bgp_running());
  EXPECT_FALSE(rs_has_vip());
  d->start_bgp();
  // No rise to wait for: the check stayed up, so the VIP is announced once BGP is up.
  run_for(3s);
  EXPECT_TRUE(rs_has_vip());
}

// After stop_bgp the daemon has no speaker while the API still serves: the commands that
// read routes or drain a VIP answer why they cannot, rather than dereferencing it.
TEST_F(DaemonTest, ApiAnswersRoutesAndDrainWhileBgpIsStopped) {
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  run_for(5s);
  d->stop_bgp();
  run_for(1s);
  ASSERT_FALSE(d->bgp_running());
  for (const char* cmd : {"show routes", "drain", "undrain"}) {
    nlohmann::json req = {{"command", cmd}};
    if (std::string(cmd) != "show routes") req["vip"] = "9.9.9.9/32";
    auto a = api::handle(req, d->parts());
    EXPECT_EQ(a["ok"], false) << cmd;
    EXPECT_EQ(a["error"], "BGP is not running") << cmd;
  }
  EXPECT_EQ(api::handle({{"command", "show peers"}}, d->parts())["ok"], true);
}

// The speaker's shutdown completes on the loop's next turn. The daemon freed before then
// (the lab's crash right after stop-bgp) must not be called back: ASan saw a use after free
// while that callback had no owner.
TEST_F(DaemonTest, FreedRightAfterStopBgpIsNotCalledBack) {
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  run_for(5s);
  d->stop_bgp();
  d.reset();
  run_for(5s);
  EXPECT_FALSE(rs_has_vip());
}

// Stopped while BGP shuts down: the withdrawal's callback belongs to the daemon too.
TEST_F(DaemonTest, FreedWhileWithdrawingIsNotCalledBack) {
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  run_for(5s);
  d->stop();  // drains for 10 s
  d->stop();  // withdraws now: the speaker's shutdown is posted
  d.reset();
  run_for(15s);
  EXPECT_EQ(stopped, 0);
}

// GET /healthz's verdict for each rule, as a load balancer's probe sees the NVA: before the
// check rises, announced, draining, and stopping.
TEST_F(DaemonTest, HealthzFollowsTheVipsTheSessionsAndTheDrain) {
  using H = config::MetricsConfig::Healthz;
  auto d = make(kNva);
  ASSERT_TRUE(d->start());
  auto probe = [&](H rule) { return daemon::healthz(rule, d->parts()); };
  auto h = probe(H::any_vip);
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(h.reason.rfind("0 of 1 VIPs announced: 9.9.9.9/32 withdrawn", 0), 0u) << h.reason;
  EXPECT_FALSE(probe(H::session).ok);
  run_for(5s);
  h = probe(H::any_vip);
  EXPECT_TRUE(h.ok) << h.reason;
  EXPECT_EQ(h.reason, "1 of 1 VIPs announced");
  EXPECT_TRUE(probe(H::all_vips).ok);
  h = probe(H::session);
  EXPECT_TRUE(h.ok);
  EXPECT_EQ(h.reason, "session with 198.18.0.2 established");
  EXPECT_TRUE(probe(H::not_draining).ok);
  d->drain_all();
  run_for(1s);
  h = probe(H::not_draining);
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(h.reason, "1 VIPs draining or drained");
  EXPECT_TRUE(probe(H::any_vip).ok) << "still announced while it drains";
  d->undrain_all();
  run_for(1s);
  d->stop();
  h = probe(H::any_vip);
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(h.reason, "stopping: draining and withdrawing the VIPs");
}
