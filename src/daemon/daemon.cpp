#include "daemon/daemon.hpp"

#include "daemon/log.hpp"

namespace anycastd::daemon {

namespace {

std::string list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? std::string("none") : s;
}

constexpr auto kFlushGrace = std::chrono::seconds(5);
constexpr auto kAfterWithdraw = std::chrono::milliseconds(200);
constexpr auto kConnectionPoll = std::chrono::milliseconds(50);

}  // namespace

Daemon::Daemon(Loop& loop, Transport& transport, Platform& platform, config::Config cfg,
               Options opts)
    : loop_(loop),
      transport_(transport),
      platform_(platform),
      cfg_(std::move(cfg)),
      opts_(std::move(opts)),
      step_(loop) {}

Daemon::~Daemon() {
  // The checks publish to the link and the speaker; the link writes to the forwarder.
  if (monitor_) monitor_->on_announce = nullptr;
  monitor_.reset();
  link_.reset();
  release_kernel_routes();
}

api::Parts Daemon::parts() {
  api::Parts p{&loop_, speaker_.get(), monitor_.get(), forwarder_.get(), nullptr, nullptr};
  p.reload = [this] { return reload(); };
  p.stopping = [this] { return phase_ != Phase::running; };
  return p;
}

void Daemon::make_speaker() {
  speaker_ = std::make_unique<bgp::Speaker>(loop_, transport_, cfg_.bgp, opts_.speaker_seed);
  // The speaker dies before the daemon, so `this` outlives every call.
  speaker_->on_peer_state = [this, s = speaker_.get()](size_t i, bgp::State st) {
    if (on_peer_state) on_peer_state(*s, i, st);
  };
}

Status<> Daemon::start() {
  make_speaker();
  if (auto r = start_kernel_routes(); !r) return r;
  if (auto r = speaker_->start(); !r) return r;
  if (auto r = start_forwarding(); !r) return r;
  start_health();
  phase_ = Phase::running;
  platform_.serve(cfg_, [this] { return parts(); });
  platform_.ready();
  spdlog::info("anycastd started: AS{} router-id {}, {} peers, {} VIPs", cfg_.bgp.local_as,
               IpAddress::v4(cfg_.bgp.router_id).to_string(), cfg_.bgp.peers.size(),
               cfg_.bgp.vips.size());
  return Done{};
}

Status<> Daemon::start_kernel_routes() {
  if (!cfg_.fib.kernel) return Done{};
  auto k = platform_.kernel_routes(cfg_.fib);
  if (!k) return Err("fib: " + k.error());
  kernel_ = std::move(*k);
  fib_ = std::make_unique<fib::FibSync>(*kernel_);
  fib_->on_error = [](const std::string& e) { sub("fib").warn("fib: {}", e); };
  speaker_->on_route_change(
      [this](const Prefix& p, const rib::Entry* e) { fib_->on_change(p, e); });
  return Done{};
}

void Daemon::release_kernel_routes() {
  if (!fib_) return;
  sub("fib").info("fib: removing {} routes", fib_->installed());
  fib_->clear();
  // The speaker may outlive the table: it must report nothing more to it.
  if (speaker_) speaker_->on_route_change(nullptr);
  fib_.reset();
  kernel_.reset();
}

Status<> Daemon::start_forwarding() {
  if (cfg_.proxy.services.empty()) return Done{};
  auto f = platform_.forwarding(cfg_.proxy, [this](size_t s, size_t b, const std::string& why) {
    if (link_) link_->on_failure(s, b, why);
  });
  if (!f) return Err("proxy: " + f.error());
  forwarder_ = std::move(*f);
  for (size_t i = 0; i < cfg_.proxy.services.size(); ++i) {
    const auto& s = cfg_.proxy.services[i];
    auto st = forwarder_->stats(i);
    // Which path carries established connections, and why when `auto` could not have the
    // kernel's: said once, here.
    const bool tcp = s.protocol == proxy::Protocol::tcp;
    std::string path = st.forwarding == "nat"      ? "in the kernel (address translation)"
                       : st.forwarding == "kernel" ? "in the kernel (sockmap)"
                                                   : "in user space";
    if (!st.forwarding_reason.empty()) path += " (" + st.forwarding_reason + ")";
    sub("proxy").info("proxy {}: {} {} to {} backends on {} threads, forwarding {}", s.name,
                      tcp ? "tcp" : "udp", s.listen.to_string(), s.backends.size(),
                      forwarder_->threads(), path);
  }
  return Done{};
}

void Daemon::start_health() {
  if (cfg_.health.checks.empty()) return;
  monitor_ = std::make_unique<health::Monitor>(
      loop_, cfg_.health, [this](const health::CheckConfig& c) { return platform_.probe(c); },
      &transport_, opts_.health_seed);
  monitor_->on_check = [this](const health::Checker& c, bool flipped) {
    if (link_) link_->on_check(c, flipped);
    const auto& st = c.state();
    if (flipped)
      sub("health").info("check {}: {} ({})", c.config().name, st.up() ? "up" : "down",
                         st.last()->describe());
    else if (!st.last()->ok)
      sub("health").debug("check {}: failed {} of {}: {}", c.config().name, st.failures(),
                          c.config().fall, st.last()->describe());
    if (on_check) on_check(c, flipped);
  };
  monitor_->on_announce = [this](const Prefix& p, const VipAnnouncement& a,
                                 const health::VipHealth& v) {
    sub("health").info("VIP {}: {} ({})", p.to_string(), health::to_string(v.status()), v.reason());
    if (on_announce) on_announce(p, v);
    if (bgp_running()) speaker_->set_vip(p, a);
  };
  if (forwarder_) {
    link_ = std::make_unique<proxy::HealthLink>(*monitor_, *forwarder_);
    link_->on_log = [](const proxy::ServiceConfig& s, const proxy::BackendConfig& b,
                       const std::string& why) {
      sub("proxy").warn("proxy {}: backend {} failed a connection: {}; re-checking now", s.name,
                        b.endpoint.to_string(), why);
    };
    link_->on_change = [](const proxy::ServiceConfig& s, const proxy::BackendConfig& b,
                          const std::string& what) {
      sub("proxy").warn("proxy {}: backend {} is {}", s.name, b.endpoint.to_string(), what);
    };
  }
  monitor_->start();
  if (link_) link_->refresh();
}

namespace {

std::string backend_changes(const std::vector<api::ReloadReport::Backends>& all) {
  std::string out;
  for (const auto& b : all) {
    std::string one;
    for (auto [what, names] :
         {std::pair{"added ", &b.added}, {"removed ", &b.removed}, {"changed ", &b.changed}}) {
      if (names->empty()) continue;
      std::string items;
      for (const auto& n : *names) items += (items.empty() ? "" : " ") + n;
      one += (one.empty() ? "" : ", ") + std::string(what) + items;
    }
    out += (out.empty() ? "" : "; ") + b.service + " " + one;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

api::ReloadReport Daemon::reload() {
  api::ReloadReport r;
  if (opts_.config_path.empty()) {
    r.error = "reload is not available here: no configuration file";
    return r;
  }
  auto next = config::load_file(opts_.config_path);
  if (!next) {
    r.error = next.error().to_string();
    sub("api").error("reload refused: {}", r.error);
    return r;
  }
  for (const auto& w : next->warnings) sub("api").warn("{}", w);
  return apply(std::move(*next));
}

api::ReloadReport Daemon::apply(config::Config next) {
  api::ReloadReport r;
  if (auto why = config::reload_blocker(cfg_, next)) {
    r.error = *why;
    sub("api").error("reload refused: {}", r.error);
    return r;
  }
  // The services are the same but for their backends (reload_blocker): the backends that
  // changed are planned first, so that one that cannot be applied refuses the whole reload.
  std::vector<size_t> changed_backends;
  for (size_t i = 0; forwarder_ && i < next.proxy.services.size(); ++i) {
    const auto &was = cfg_.proxy.services[i].backends, &now = next.proxy.services[i].backends;
    bool same = was.size() == now.size();
    for (size_t b = 0; same && b < was.size(); ++b)
      same = was[b].endpoint == now[b].endpoint && was[b].weight == now[b].weight &&
             was[b].checks == now[b].checks;
    if (same) continue;
    proxy::BackendSlots trial{forwarder_->config().services[i].backends, {}};
    trial.control.resize(trial.configs.size());
    const bool nat = forwarder_->stats(i).forwarding == "nat";
    if (auto p = proxy::plan_backends(trial, now, {}, {},
                                      nat ? proxy::kNatBackends : proxy::kBackendSlots);
        !p) {
      r.error =
          "service " + next.proxy.services[i].name + ": " + p.error() + ": restart to apply it";
      sub("api").error("reload refused: {}", r.error);
      return r;
    }
    changed_backends.push_back(i);
  }
  if (speaker_) {
    // Policies first: peers that start now use the new ones.
    r.policies_refreshed = speaker_->update_policies(next.bgp.policies);
    auto c = speaker_->reconfigure(next.bgp.peers, next.bgp.vips);
    r.added = std::move(c.added);
    r.removed = std::move(c.removed);
    r.restarted = std::move(c.restarted);
    r.vips = std::move(c.vips_changed);
  }
  // Then checks: a VIP judged again is announced through the speaker's new VIP list.
  if (monitor_) r.health = monitor_->reconfigure(next.health);
  // Then the backends, whose new checks now exist; what did not change is not touched.
  for (size_t i : changed_backends) {
    const auto& s = next.proxy.services[i];
    auto c = forwarder_->reconfigure_backends(i, s.backends);
    if (!c) {  // planned above: cannot happen, but never half-said
      sub("proxy").error("proxy {}: backends not changed: {}", s.name, c.error());
      continue;
    }
    if (c->empty()) continue;
    if (!c->removed.empty())
      sub("proxy").info(
          "proxy {}: backends removed: {}; their open connections get {} ms", s.name,
          list(c->removed),
          std::chrono::duration_cast<std::chrono::milliseconds>(s.drain_time).count());
    r.backends.push_back(
        {s.name, std::move(c->added), std::move(c->removed), std::move(c->changed)});
  }
  if (link_) link_->refresh();
  cfg_ = std::move(next);
  r.applied = true;
  sub("api").info(
      "reloaded {}: peers added: {}; removed: {}; restarted: {}; VIPs: {}; policies "
      "refreshed toward: {}; health: {}; services' backends: {}",
      opts_.config_path, list(r.added), list(r.removed), list(r.restarted), list(r.vips),
      list(r.policies_refreshed), list(r.health), backend_changes(r.backends));
  return r;
}

void Daemon::drain_all() {
  if (!monitor_) return;
  for (const auto& [p, v] : monitor_->vips()) monitor_->drain(p);
}

void Daemon::undrain_all() {
  if (!monitor_) return;
  for (const auto& [p, v] : monitor_->vips()) monitor_->undrain(p);
}

void Daemon::stop() {
  switch (phase_) {
    case Phase::created:
    case Phase::stopped:
      return leave();
    case Phase::running: {
      Duration drain = monitor_ ? monitor_->drain_all() : Duration::zero();
      if (drain == Duration::zero()) {
        spdlog::info("withdrawing VIPs and closing sessions");
        return withdraw();
      }
      // Planned maintenance: routers move new flows away while the VIP still answers.
      spdlog::info("draining for {} ms before withdrawing (again to stop now)",
                   std::chrono::duration_cast<std::chrono::milliseconds>(drain).count());
      phase_ = Phase::draining;
      platform_.stopping("draining VIPs before withdrawing them");
      step_.arm(drain, [this] { withdraw(); });
      return;
    }
    case Phase::draining:
      spdlog::info("withdrawing VIPs and closing sessions");
      return withdraw();
    case Phase::withdrawing:
    case Phase::finishing:
      // Impatient: open proxy connections are reset rather than waited for.
      spdlog::info("leaving now");
      return leave();
  }
}

void Daemon::withdraw() {
  phase_ = Phase::withdrawing;
  platform_.stopping("withdrawing VIPs, closing sessions");
  if (monitor_) monitor_->stop();
  if (!speaker_) return finish();
  // A peer that never reads its socket must not hold us: leave after the grace regardless.
  step_.arm(kFlushGrace, [this] { leave(); });
  speaker_->shutdown([this] {
    // Let the withdrawals and NOTIFICATIONs reach the wire before going on.
    step_.arm(kAfterWithdraw, [this] { finish(); });
  });
}

void Daemon::finish() {
  phase_ = Phase::finishing;
  if (!forwarder_) return leave();
  // The VIP is withdrawn; connections already open may finish, up to drain-time.
  forwarder_->drain_all();
  sub("proxy").info("proxy: {} connections open, letting them finish",
                    forwarder_->active_connections());
  wait_for_connections();
}

void Daemon::wait_for_connections() {
  if (forwarder_->active_connections() == 0) return leave();
  step_.arm(kConnectionPoll, [this] { wait_for_connections(); });
}

void Daemon::leave() {
  if (phase_ == Phase::stopped) return;
  phase_ = Phase::stopped;
  step_.cancel();
  release_kernel_routes();
  if (on_stopped) on_stopped();
}

void Daemon::stop_bgp() {
  if (!speaker_ || bgp_stopped_) return;
  bgp_stopped_ = true;
  speaker_->on_route_change(nullptr);
  // The speaker calls back from inside itself: it is freed on the loop's next turn. Both
  // callbacks are owned (by the speaker, then by us), so neither outlives what it frees.
  speaker_->shutdown([this] {
    retired_ = std::move(speaker_);
    posts_.post([this] { retired_.reset(); });
  });
}

void Daemon::start_bgp() {
  if (speaker_ || phase_ != Phase::running) return;
  bgp_stopped_ = false;
  make_speaker();
  if (fib_)
    speaker_->on_route_change(
        [this](const Prefix& p, const rib::Entry* e) { fib_->on_change(p, e); });
  if (auto r = speaker_->start(); !r) sub("bgp").error("{}", r.error());
  announce_current();
}

// BGP came back while the checks kept running: announce what they say now.
void Daemon::announce_current() {
  if (!monitor_) return;
  for (const auto& [p, v] : monitor_->vips()) {
    auto a = v.announcement();
    if (a.announce) speaker_->set_vip(p, a);
  }
}

}  // namespace anycastd::daemon
