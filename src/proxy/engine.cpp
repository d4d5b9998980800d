#include "proxy/engine.hpp"

#include <unistd.h>

#include "proxy/bpf/nat_shared.h"
#include "proxy/kernel_nat.hpp"
#include "proxy/maglev.hpp"
#include "proxy/socket_ops.hpp"
#include "proxy/sockmap.hpp"
#include "proxy/worker.hpp"

namespace anycastd::proxy {

Result<std::unique_ptr<Engine>, std::string> Engine::start(ProxyConfig cfg,
                                                           BackendFailure on_failure,
                                                           Notice on_notice) {
  std::unique_ptr<Engine> e(new Engine);
  e->cfg_ = std::move(cfg);
  e->on_failure_ = std::move(on_failure);
  e->on_notice_ = std::move(on_notice);
  for (size_t i = 0; i < e->cfg_.services.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const auto &a = e->cfg_.services[i], &b = e->cfg_.services[j];
      // SO_REUSEPORT would let both bind and split the traffic between them.
      if (a.listen == b.listen && a.protocol == b.protocol)
        return Err("service " + a.name + ": " + a.listen.to_string() + " is already service " +
                   b.name + "'s");
    }
  for (const auto& sc : e->cfg_.services) {
    auto s = std::make_unique<Service>();
    s->cfg = sc;
    s->backends = std::make_unique<Counters[]>(std::max(kBackendSlots, sc.backends.size()));
    auto st = std::make_shared<ServiceState>();
    st->configs = sc.backends;
    // A backend with checks waits for them to pass, as a VIP waits for `rise`.
    for (const auto& b : sc.backends) {
      st->control.push_back({b.checks.empty(), AdminState::ready, b.weight});
      st->backends.push_back(effective_view(b, st->control.back()));
    }
    if (sc.balance == Balance::maglev) st->maglev = std::make_shared<MaglevTable>(st->backends);
    s->state = std::move(st);
    e->services_.push_back(std::move(s));
  }
  uint32_t n =
      e->cfg_.threads ? e->cfg_.threads : std::max(1u, std::thread::hardware_concurrency());
  if (auto chosen = e->choose_forwarding(n); !chosen) return Err(chosen.error());
  for (const auto& sc : e->cfg_.services) {
    int fd = -1;
    if (sc.protocol == Protocol::tcp) {
      auto l = open_listener(sc.listen, sc.protocol);
      if (!l) return Err("service " + sc.name + ": " + l.error());
      fd = *l;
    }
    e->shared_listeners_.push_back(fd);
  }
  for (uint32_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(*e, i);
    auto opened = w->open_listeners(e->shared_listeners_);
    if (!opened) return Err(opened.error());
    e->workers_.push_back(std::move(w));
  }
  for (auto& w : e->workers_) e->threads_.emplace_back([w = w.get()] { w->run(); });
  return e;
}

// One sockmap serves every service that wants the kernel path; if it does not load, `kernel`
// services fail to start and `auto` ones stay in user space with the reason.
Status<> Engine::choose_forwarding(uint32_t threads) {
  if (auto nat = start_nat(); !nat) return nat;
  uint64_t pairs = 0;
  for (const auto& s : services_)
    if (s->cfg.protocol == Protocol::tcp &&
        (s->cfg.forwarding == Forwarding::kernel || s->cfg.forwarding == Forwarding::automatic))
      pairs += s->cfg.max_connections;
  if (pairs == 0) return Done{};
  // A sockmap index is a u32 and each connection takes two.
  auto m = Sockmap::load(static_cast<uint32_t>(std::min<uint64_t>(pairs, 1u << 24)), threads);
  for (auto& s : services_) {
    if (s->cfg.protocol != Protocol::tcp || s->cfg.forwarding == Forwarding::user ||
        s->cfg.forwarding == Forwarding::nat)
      continue;
    if (m) {
      s->kernel = true;
    } else if (s->cfg.forwarding == Forwarding::kernel) {
      return Err("service " + s->cfg.name + ": forwarding: kernel: " + m.error());
    } else {
      s->why_not = m.error();
    }
  }
  if (m) sockmap_ = std::move(*m);
  return Done{};
}

// Services with `forwarding: nat` share one tc program, attached last, once every service's
// table is in place; it cannot fall back, as `auto` never chooses it.
Status<> Engine::start_nat() {
  std::vector<Service*> want;
  uint64_t flows = 0;
  for (auto& s : services_) {
    if (s->cfg.forwarding != Forwarding::nat) continue;
    if (auto why = KernelNat::unsuited(s->cfg); !why.empty())
      return Err("service " + s->cfg.name + ": forwarding: nat: " + why);
    want.push_back(s.get());
    flows += 4 * uint64_t{s->cfg.max_connections};
  }
  if (want.empty()) return Done{};
  auto fail = [](const Service& s, const std::string& why) {
    return Err("service " + s.cfg.name + ": forwarding: nat: " + why);
  };
  auto n = KernelNat::load(static_cast<uint32_t>(std::min<uint64_t>(flows, 1u << 22)),
                           cfg_.nat_state, on_notice_);
  if (!n) return fail(*want.front(), n.error());
  for (size_t i = 0; i < want.size(); ++i) {
    auto& s = *want[i];
    s.nat = static_cast<int>(i);
    auto st = s.load();
    if (auto r = (*n)->add(static_cast<uint32_t>(i), s.cfg); !r) return fail(s, r.error());
    if (auto r =
            (*n)->update(static_cast<uint32_t>(i), s.cfg, st->configs, st->backends, st->draining);
        !r)
      return fail(s, r.error());
  }
  if (auto r = (*n)->attach(on_notice_); !r) return fail(*want.front(), r.error());
  nat_ = std::move(*n);
  return Done{};
}

Engine::~Engine() {
  for (auto& w : workers_) w->stop();
  for (auto& t : threads_) t.join();
  workers_.clear();
  for (int fd : shared_listeners_)
    if (fd >= 0) ::close(fd);
}

void Engine::publish(size_t i, const std::function<void(ServiceState&)>& change) {
  auto& s = *services_.at(i);
  {
    std::lock_guard l(s.mu);
    auto next = std::make_shared<ServiceState>(*s.state);
    change(*next);
    // Health, the operator's state and weight become one view; only a changed view costs
    // a new Maglev table.
    bool view_changed = next->backends.size() != next->configs.size();
    next->backends.resize(next->configs.size());
    for (size_t b = 0; b < next->backends.size(); ++b) {
      auto v = effective_view(next->configs[b], next->control[b]);
      view_changed |=
          v.healthy != next->backends[b].healthy || v.weight != next->backends[b].weight;
      next->backends[b] = std::move(v);
    }
    if (s.cfg.balance == Balance::maglev && view_changed)
      next->maglev = std::make_shared<MaglevTable>(next->backends);
    if (s.nat >= 0)  // a table the program reads at once; it cannot fail once loaded
      (void)nat_->update(static_cast<uint32_t>(s.nat), s.cfg, next->configs, next->backends,
                         next->draining);
    s.state = std::move(next);
  }
  s.version.fetch_add(1, std::memory_order_release);
  // Threads also pick the change up at their next new connection; the wake-up matters
  // for idle ones and for the drain deadline.
  for (auto& w : workers_) w->wake();
}

void Engine::set_backend_health(size_t service, size_t backend, bool healthy) {
  {
    auto st = services_.at(service)->load();
    if (st->control.at(backend).healthy == healthy) return;
  }
  publish(service, [&](ServiceState& st) { st.control[backend].healthy = healthy; });
}

bool Engine::set_backend_admin(size_t service, size_t backend, AdminState state) {
  {
    auto st = services_.at(service)->load();
    if (st->control.at(backend).admin == state) return false;
  }
  publish(service, [&](ServiceState& st) { st.control[backend].admin = state; });
  return true;
}

void Engine::close_backend_connections(size_t service, size_t backend) {
  const auto now = std::chrono::steady_clock::now();
  publish(service, [&](ServiceState& st) { st.control.at(backend).close_before = now; });
}

bool Engine::set_backend_weight(size_t service, size_t backend, uint32_t weight) {
  {
    auto st = services_.at(service)->load();
    if (st->control.at(backend).weight == weight) return false;
  }
  publish(service, [&](ServiceState& st) { st.control[backend].weight = weight; });
  return true;
}

void Engine::drain(size_t service) {
  auto deadline = std::chrono::steady_clock::now() + services_.at(service)->cfg.drain_time;
  publish(service, [&](ServiceState& st) {
    if (st.draining) return;
    st.draining = true;
    st.drain_deadline = deadline;
  });
}

void Engine::undrain(size_t service) {
  publish(service, [](ServiceState& st) { st.draining = false; });
}

void Engine::drain_all() {
  for (size_t i = 0; i < services_.size(); ++i) drain(i);
}

uint64_t Engine::active_connections() const {
  uint64_t n = 0;
  for (const auto& s : services_) n += s->active.load(std::memory_order_relaxed);
  return n;
}

ServiceStats Engine::stats(size_t i) const {
  const auto& s = *services_.at(i);
  auto st = s.load();
  ServiceStats out;
  out.active = s.active.load(std::memory_order_relaxed);
  out.refused = s.refused.load(std::memory_order_relaxed);
  out.dropped = s.dropped.load(std::memory_order_relaxed);
  out.draining = st->draining;
  out.forwarding = s.nat >= 0 ? "nat" : s.kernel ? "kernel" : "user";
  out.forwarding_reason = s.why_not;
  out.kernel_connections = s.kernel_connections.load(std::memory_order_relaxed);
  KernelNat::Table table;
  if (s.nat >= 0) {
    table = nat_->table(static_cast<uint32_t>(s.nat));
    out.nat.established = table.established;
    out.nat.opening = table.opening;
    out.nat.closing = table.closing;
    out.nat.expired = table.expired;
  }
  uint64_t cached = 0, promoted = 0;
  for (size_t b = 0; b < st->configs.size(); ++b) {
    const auto& c = s.backends[b];
    BackendStats bs{c.connections.load(), c.active.load(),    c.failures.load(),
                    c.bytes_in.load(),    c.bytes_out.load(), st->control[b].healthy};
    bs.admin = st->control[b].admin;
    bs.weight = st->control[b].weight;
    bs.removed = st->control[b].removed;
    if (s.nat >= 0) {  // what the program forwarded, besides what reached the threads
      auto k = nat_->count(static_cast<uint32_t>(s.nat), static_cast<uint32_t>(b));
      bs.connections += k.flows;
      bs.bytes_in += k.to_backend_bytes;
      bs.bytes_out += k.to_client_bytes;
      out.kernel_connections += k.flows;
      out.nat.takeovers += k.takeovers;
      out.nat.full += k.full;
      cached += k.cached;
      promoted += k.promoted;
    }
    out.connections += bs.connections;
    out.bytes_in += bs.bytes_in;
    out.bytes_out += bs.bytes_out;
    out.backends.push_back(bs);
  }
  const uint64_t left = promoted + table.cache_expired + table.cache;
  out.nat.evicted = cached > left ? cached - left : 0;
  return out;
}

Result<BackendChanges, std::string> Engine::reconfigure_backends(
    size_t service, const std::vector<BackendConfig>& backends) {
  auto& s = *services_.at(service);
  auto st = s.load();
  BackendSlots slots{st->configs, st->control};
  auto changes = plan_backends(slots, backends, std::chrono::steady_clock::now(), s.cfg.drain_time,
                               s.nat >= 0 ? size_t{NAT_BACKENDS} : kBackendSlots);
  if (!changes || changes->empty()) return changes;
  publish(service, [&](ServiceState& next) {
    next.configs = slots.configs;
    next.control = slots.control;
  });
  cfg_.services.at(service).backends = std::move(slots.configs);
  return changes;
}

}  // namespace anycastd::proxy
