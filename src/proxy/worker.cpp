#include "proxy/worker.hpp"

#include "core/internal_error.hpp"

#include <bpf/libbpf.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "core/hash.hpp"
#include "proxy/maglev.hpp"
#include "proxy/sockmap.hpp"

namespace anycastd::proxy {

namespace {
constexpr auto kSweepEvery = std::chrono::milliseconds(100);
}

size_t Worker::FlowIdHash::operator()(const FlowId& f) const {
  return hash_mix(std::hash<IpAddress>{}(f.client.address) ^ std::hash<IpAddress>{}(f.local),
                  (uint64_t{f.service} << 16) | f.client.port);
}

Worker::Worker(Engine& engine, uint32_t index) : engine_(engine), index_(index) {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  add(wake_fd_, &wake_handle_, EPOLLIN | EPOLLET);
  services_.resize(engine_.services().size());
  for (uint32_t i = 0; i < services_.size(); ++i) refresh(i);
  open_ring();
}

Worker::~Worker() {
  for (auto* c : conns_) {
    if (c->client.fd >= 0) close_reset(c->client.fd);
    if (c->backend.fd >= 0) close_reset(c->backend.fd);
    if (c->kernel) leave_kernel(*c);
    for (auto* d : {&c->up, &c->down}) {
      if (d->pipe_r >= 0) ::close(d->pipe_r), ::close(d->pipe_w);
      delete[] d->buf;
    }
    delete c;
  }
  if (ring_) ring_buffer__free(ring_);
  for (auto* f : flows_) {
    ::close(f->fd);
    delete f;
  }
  reap();
  for (auto* b : free_buffers_) delete[] b;
  for (auto& l : listeners_)
    if (l->owned) ::close(l->fd);
  ::close(wake_fd_);
  ::close(ep_);
}

Status<> Worker::open_listeners(const std::vector<int>& shared) {
  auto& svcs = engine_.services();
  for (uint32_t i = 0; i < svcs.size(); ++i) {
    const auto& cfg = svcs[i]->cfg;
    auto l = std::make_unique<Listener>();
    l->service = i;
    if (cfg.protocol == Protocol::tcp) {
      l->kind = Kind::tcp_listener;
      l->fd = shared.at(i);
      l->owned = false;
      // Level-triggered: a thread takes a bounded batch and leaves the rest to the others.
      add(l->fd, l.get(), EPOLLIN | EPOLLEXCLUSIVE);
    } else {
      auto fd = open_listener(cfg.listen, cfg.protocol);
      if (!fd) return Err("service " + cfg.name + ": " + fd.error());
      l->kind = Kind::udp_listener;
      l->fd = *fd;
      // A burst of queries waits here while the thread forwards the previous batch: room
      // for thousands, where the default holds a few hundred small datagrams. Raising it
      // past net.core.rmem_max needs CAP_NET_ADMIN; without it the kernel caps it.
      int rcvbuf = 4 << 20;
      if (::setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        ::setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      if (cfg.listen.address.is_unspecified()) {
        int one = 1;
        l->wildcard = true;
        if (cfg.listen.address.is_v4())
          ::setsockopt(l->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
        else
          ::setsockopt(l->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
      }
      add(l->fd, l.get(), EPOLLIN | EPOLLET);
    }
    listeners_.push_back(std::move(l));
  }
  return Done{};
}

void Worker::add(int fd, Handle* h, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
}

void Worker::stop() {
  stop_.store(true);
  wake();
}

void Worker::wake() {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::refresh(uint32_t i) {
  auto& svc = *engine_.services()[i];
  auto& mine = services_[i];
  uint64_t v = svc.version.load(std::memory_order_acquire);
  if (v == mine.version) return;
  mine.version = v;
  mine.state = svc.load();
  if (!mine.balancer)
    mine.balancer = make_balancer(
        svc.cfg.balance, svc.cfg.hash, mine.state->backends, mine.state->maglev,
        [this, i](uint32_t b) {
          return engine_.services()[i]->backends[b].active.load(std::memory_order_relaxed);
        });
  else
    mine.balancer->update(mine.state->backends, mine.state->maglev);
}

std::optional<uint32_t> Worker::choose(uint32_t service, const FlowKey& k) {
  refresh(service);
  auto& mine = services_[service];
  if (mine.state->draining) return std::nullopt;
  return mine.balancer->pick(k);
}

void Worker::run() {
  std::vector<epoll_event> events(256);
  while (!stop_.load(std::memory_order_relaxed)) {
    bool busy = !conns_.empty() || !flows_.empty();
    timespec wait{0, 0};
    if (!rechecks_.empty()) {
      // Connections on the kernel path waiting for it to move their last bytes: sub-ms.
      auto next = rechecks_.front()->kernel->recheck;
      for (auto* c : rechecks_) next = std::min(next, c->kernel->recheck);
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    next - std::chrono::steady_clock::now())
                    .count();
      if (ns > 0)
        wait = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    } else if (busy) {
      wait.tv_nsec = std::chrono::duration_cast<std::chrono::nanoseconds>(kSweepEvery).count();
    }
    int n = ::epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()),
                           rechecks_.empty() && !busy ? nullptr : &wait, nullptr);
    now_ = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<Handle*>(events[i].data.ptr);
      // A forwarding thread's throw would end the process: the last resort drops the event
      // (its connection is then ended by its timeout or its peer) and the thread goes on.
      guarded("an event on a forwarding thread", [&] { dispatch(*h, events[i].events); });
    }
    // Notices from the ring, now that it is drained (a step may drain it again).
    for (size_t i = 0; i < notices_.size(); ++i) on_notice(notices_[i]);
    notices_.clear();
    if (!rechecks_.empty()) recheck_due();
    flush_replies();  // the answers read in this round, in one sendmmsg per listener
    if (now_ - last_sweep_ >= kSweepEvery) sweep(now_);
    reap();  // only now: a later event of this batch may still name a finished connection
  }
}

void Worker::dispatch(Handle& h, uint32_t events) {
  switch (h.kind) {
    case Kind::wake: {
      uint64_t count;
      [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
      for (uint32_t s = 0; s < services_.size(); ++s) refresh(s);
      break;
    }
    case Kind::tcp_listener:
      accept_all(*static_cast<Listener*>(&h));
      break;
    case Kind::udp_listener:
      on_udp_listener(*static_cast<Listener*>(&h));
      break;
    case Kind::tcp_side:
      on_side(*static_cast<Side*>(&h), events);
      break;
    case Kind::udp_flow:
      on_flow(*static_cast<Flow*>(&h));
      break;
    case Kind::ring:
      drain_ring();
      break;
  }
}

void Worker::sweep(SteadyTime now) {
  last_sweep_ = now;
  for (uint32_t s = 0; s < services_.size(); ++s) refresh(s);
  // Index loops: finish() swaps the last entry into the finished one's place.
  for (size_t i = conns_.size(); i-- > 0;) {
    Conn& c = *conns_[i];
    const auto& st = *services_[c.service].state;
    const auto& control = st.control[c.backend_index];
    const bool closed_by_operator =
        !c.connecting && c.opened < control.close_before && now >= control.close_before;
    if ((st.draining && now >= st.drain_deadline) || closed_by_operator) {
      finish(c, true);
    } else if (report(c) && c.kernel) {
      c.deadline = now + engine_.services()[c.service]->cfg.idle_timeout;  // quiet for us only
      kernel_step(c);  // a lost ring record delays passed bytes by one sweep at most
    } else if (now >= c.deadline) {
      finish(c, c.connecting, c.connecting ? "connect timeout" : nullptr);
    }
  }
  for (size_t i = flows_.size(); i-- > 0;) {
    Flow& f = *flows_[i];
    const auto& st = *services_[f.service].state;
    // A draining service's flows are request and answer: one quiet for a second is done,
    // and must not hold up a shutdown that waits for open connections.
    auto quiet = now - (f.deadline - engine_.services()[f.service]->cfg.idle_timeout);
    bool drained = st.draining && (now >= st.drain_deadline || quiet >= std::chrono::seconds(1));
    const auto& control = st.control[f.backend_index];
    if (now >= f.deadline || drained ||
        (f.opened < control.close_before && now >= control.close_before))
      expire(f);
  }
}

void Worker::reap() {
  for (auto* c : dead_conns_) delete c;
  dead_conns_.clear();
  for (auto* f : dead_flows_) delete f;
  dead_flows_.clear();
}

}  // namespace anycastd::proxy
