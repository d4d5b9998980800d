// TCP forwarding: accept, choose, connect, then move bytes both ways until both halves
// are closed. Edge-triggered: a side's readable/writable flags are kept until a call says
// EAGAIN, so each event costs only the calls that move data.
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/proxy_protocol.hpp"
#include "proxy/sockmap.hpp"
#include "proxy/worker.hpp"

namespace anycastd::proxy {

namespace {
constexpr uint32_t kPipeChunk = 65536;
constexpr size_t kPooledBuffers = 1024;
constexpr int kAcceptBatch = 16;
}  // namespace

char* Worker::buffer() {
  if (free_buffers_.empty()) return new char[kBufferSize];
  char* b = free_buffers_.back();
  free_buffers_.pop_back();
  return b;
}

void Worker::accept_all(Listener& l) {
  auto& svc = *engine_.services()[l.service];
  for (int batch = 0; batch < kAcceptBatch; ++batch) {
    SockAddr from;
    from.length = sizeof from.storage;
    int fd = ::accept4(l.fd, from.get(), &from.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN (another thread was quicker), or out of descriptors
    }
    if (svc.active.load(std::memory_order_relaxed) >= svc.cfg.max_connections) {
      svc.refused.fetch_add(1, std::memory_order_relaxed);
      close_reset(fd);
      continue;
    }
    auto* c = new Conn;
    c->client.kind = c->backend.kind = Kind::tcp_side;
    c->client.conn = c->backend.conn = c;
    c->client.fd = fd;
    c->service = l.service;
    c->client_ep = from_sockaddr(from.get());
    c->opened = now_;
    c->local_ep = svc.cfg.listen;
    if (svc.cfg.proxy_protocol) {
      SockAddr local;
      local.length = sizeof local.storage;
      if (::getsockname(fd, local.get(), &local.length) == 0)
        c->local_ep = from_sockaddr(local.get());
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    svc.active.fetch_add(1, std::memory_order_relaxed);
    c->slot = static_cast<uint32_t>(conns_.size());
    conns_.push_back(c);
    // A connection the kernel will forward need not hear of the client's data meanwhile.
    c->client.events =
        svc.kernel && svc.cfg.forwarding == Forwarding::kernel ? EPOLLRDHUP | EPOLLET : kUserEvents;
    add(fd, &c->client, c->client.events);
    if (!connect_backend(*c)) {
      svc.refused.fetch_add(1, std::memory_order_relaxed);
      finish(*c, true);
    }
  }
}

bool Worker::connect_backend(Conn& c) {
  auto& svc = *engine_.services()[c.service];
  for (;;) {
    FlowKey k{c.client_ep.address, c.client_ep.port, c.local_ep.address, c.local_ep.port, 6};
    auto be = choose(c.service, k);
    if (!be) return false;
    ++c.attempts;
    bool in_progress = false;
    auto fd = start_connect(services_[c.service].state->configs[*be].endpoint, Protocol::tcp,
                            in_progress);
    if (fd) {
      c.backend_index = *be;
      c.backend.fd = *fd;
      c.backend.readable = c.backend.writable = c.backend.hup = false;
      services_[c.service].balancer->opened(*be);
      svc.backends[*be].connections.fetch_add(1, std::memory_order_relaxed);
      svc.backends[*be].active.fetch_add(1, std::memory_order_relaxed);
      c.backend.events = kUserEvents;
      add(*fd, &c.backend, kUserEvents);
      c.connecting = true;
      c.deadline = now_ + svc.cfg.connect_timeout;
      if (!in_progress) connected(c);
      return true;
    }
    svc.backends[*be].failures.fetch_add(1, std::memory_order_relaxed);
    if (engine_.on_failure()) engine_.on_failure()(c.service, *be, fd.error());
    if (c.attempts > svc.cfg.retries || svc.cfg.balance == Balance::maglev) return false;
  }
}

void Worker::watch(Side& s, uint32_t events) {
  if (s.events == events) return;
  s.events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &s;
  ::epoll_ctl(ep_, EPOLL_CTL_MOD, s.fd, &ev);
}

void Worker::connected(Conn& c) {
  auto& svc = *engine_.services()[c.service];
  c.connecting = false;
  c.deadline = now_ + svc.cfg.idle_timeout;
  if (svc.cfg.proxy_protocol) {
    // A fresh socket's send buffer always takes the 28 or 52 bytes whole.
    auto h = proxy_v2_header(c.client_ep, c.local_ep);
    if (::send(c.backend.fd, h.data(), h.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(h.size()))
      return finish(c, true);
    c.up.forwarded += h.size();
  }
  if (svc.cfg.forwarding == Forwarding::kernel && enter_kernel(c)) return;
  c.backend.writable = true;
  c.client.readable = true;  // whatever the client sent meanwhile waits in its socket
  if (!pump(c, c.up, c.client, c.backend) || !pump(c, c.down, c.backend, c.client))
    return finish(c, true);
}

void Worker::on_side(Side& s, uint32_t events) {
  Conn& c = *s.conn;
  if (c.dead) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s.hup = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s.writable = true;
  if (c.connecting) {
    if (&s != &c.backend || !(events & (EPOLLOUT | EPOLLHUP | EPOLLERR))) return;
    // Writable without an error is connected; only an error needs SO_ERROR's reason.
    int err = 0;
    socklen_t len = sizeof err;
    if (events & (EPOLLERR | EPOLLHUP)) ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if ((events & (EPOLLERR | EPOLLHUP)) && err == 0) err = ECONNRESET;
    if (err == 0) {
      // After a retry, a stale event of the closed socket can name this side: then only a
      // connected socket has a peer. The first attempt has no such ghost.
      SockAddr peer;
      peer.length = sizeof peer.storage;
      if (c.attempts == 1 || ::getpeername(s.fd, peer.get(), &peer.length) == 0) connected(c);
      return;
    }
    auto& svc = *engine_.services()[c.service];
    uint32_t failed = c.backend_index;
    services_[c.service].balancer->closed(failed);
    svc.backends[failed].active.fetch_sub(1, std::memory_order_relaxed);
    svc.backends[failed].failures.fetch_add(1, std::memory_order_relaxed);
    close_reset(c.backend.fd);
    c.backend.fd = -1;
    if (engine_.on_failure()) engine_.on_failure()(c.service, failed, errno_text(err));
    bool again = c.attempts <= svc.cfg.retries && svc.cfg.balance != Balance::maglev;
    if (!again || !connect_backend(c)) {
      svc.refused.fetch_add(1, std::memory_order_relaxed);
      finish(c, true);
    }
    return;
  }
  c.deadline = now_ + engine_.services()[c.service]->cfg.idle_timeout;
  if (c.kernel) {
    if (events & EPOLLERR) return finish(c, true);  // a reset, as recv would say
    return kernel_step(c);
  }
  if (!pump(c, c.up, c.client, c.backend) || !pump(c, c.down, c.backend, c.client))
    return finish(c, true);
  if (c.up.shut && c.down.shut) return finish(c, false);
  // `auto`: a connection that has gone back and forth (a request, its answer and a second
  // request) is worth the kernel path's set-up; it takes over once nothing waits in ours.
  if (c.turns >= 3 && !c.up.pending() && !c.down.pending() && !c.up.eof && !c.down.eof &&
      engine_.services()[c.service]->cfg.forwarding == Forwarding::automatic)
    enter_kernel(c);
}

bool Worker::pump(Conn& c, Direction& d, Side& from, Side& to) {
  const bool splicing = engine_.services()[c.service]->cfg.splice;
  if (splicing && d.pipe_r < 0) {
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) return false;
    d.pipe_r = p[0];
    d.pipe_w = p[1];
  }
  for (;;) {
    if (uint32_t pending = d.pending()) {
      if (!to.writable) return true;
      ssize_t n = splicing ? ::splice(d.pipe_r, nullptr, to.fd, nullptr, pending,
                                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                           : ::send(to.fd, d.buf + d.head, pending, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          to.writable = errno == EINTR;
          continue;
        }
        return false;
      }
      d.unreported += static_cast<uint64_t>(n);
      d.forwarded += static_cast<uint64_t>(n);
      if (splicing) {
        d.in_pipe -= static_cast<uint32_t>(n);
      } else if ((d.head += static_cast<uint32_t>(n)) == d.tail) {
        d.head = d.tail = 0;
      }
      if (static_cast<uint32_t>(n) < pending) to.writable = false;  // its buffer is full
      continue;
    }
    if (d.eof) {
      if (!d.shut) {
        // The last direction to end needs no shutdown: finish() closes both sockets next,
        // and close sends the same FIN (both receive queues are empty, read to the end)
        // in one system call instead of two.
        const Direction& other = &d == &c.up ? c.down : c.up;
        if (!other.shut) ::shutdown(to.fd, SHUT_WR);
        d.shut = true;
      }
      return true;
    }
    if (!from.readable) return true;
    if (!splicing && !d.buf) d.buf = buffer();
    const uint32_t room = splicing ? kPipeChunk : kBufferSize;
    ssize_t n = splicing ? ::splice(from.fd, nullptr, d.pipe_w, nullptr, room,
                                    SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                         : ::recv(from.fd, d.buf, room, 0);
    if (n == 0) {
      d.eof = true;
      continue;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        from.readable = false;
        return true;
      }
      return false;
    }
    if (splicing)
      d.in_pipe = static_cast<uint32_t>(n);
    else
      d.tail = static_cast<uint32_t>(n);
    d.taken += static_cast<uint64_t>(n);
    const bool up = &d == &c.up;
    if (c.turns == 0 || c.last_up != up) {
      c.turns = static_cast<uint8_t>(std::min(c.turns + 1, 255));
      c.last_up = up;
    }
    // A short read drained the socket: the next arrival raises a new edge. Not after a
    // hang-up, whose edge may already be spent: read on until the end is seen.
    if (static_cast<uint32_t>(n) < room && !from.hup) from.readable = false;
  }
}

bool Worker::report(Conn& c) {
  if (c.kernel) {
    // The verdict counts what it took from each socket; passed bytes are in that count too.
    for (int k = 0; k < 2; ++k) {
      uint64_t seen =
          __atomic_load_n(&sockmap_->direction(2 * c.kernel->pair + k).seen, __ATOMIC_RELAXED);
      (k ? c.down : c.up).unreported += seen - c.kernel->counted[k];
      c.kernel->counted[k] = seen;
    }
  }
  if (c.backend.fd < 0 && !c.up.unreported && !c.down.unreported) return false;
  bool moved = c.up.unreported || c.down.unreported;
  auto& b = engine_.services()[c.service]->backends[c.backend_index];
  if (c.up.unreported) b.bytes_in.fetch_add(c.up.unreported, std::memory_order_relaxed);
  if (c.down.unreported) b.bytes_out.fetch_add(c.down.unreported, std::memory_order_relaxed);
  c.up.unreported = c.down.unreported = 0;
  return moved;
}

void Worker::finish(Conn& c, bool reset, const char* backend_failure) {
  if (c.dead) return;
  c.dead = true;
  report(c);
  auto& svc = *engine_.services()[c.service];
  if (c.backend.fd >= 0) {
    reset ? close_reset(c.backend.fd) : (void)::close(c.backend.fd);
    services_[c.service].balancer->closed(c.backend_index);
    auto& b = svc.backends[c.backend_index];
    b.active.fetch_sub(1, std::memory_order_relaxed);
    if (backend_failure) {
      b.failures.fetch_add(1, std::memory_order_relaxed);
      if (engine_.on_failure()) engine_.on_failure()(c.service, c.backend_index, backend_failure);
    }
  }
  reset ? close_reset(c.client.fd) : (void)::close(c.client.fd);
  c.client.fd = c.backend.fd = -1;
  const bool pooled = !c.kernel;  // the kernel path's buffers are larger
  if (c.kernel) {
    report(c);  // the last bytes the verdict took before the sockets closed
    leave_kernel(c);
  }
  svc.active.fetch_sub(1, std::memory_order_relaxed);
  for (auto* d : {&c.up, &c.down}) {
    if (d->pipe_r >= 0) ::close(d->pipe_r), ::close(d->pipe_w);
    if (d->buf) {
      if (pooled && free_buffers_.size() < kPooledBuffers)
        free_buffers_.push_back(d->buf);
      else
        delete[] d->buf;
      d->buf = nullptr;
    }
  }
  conns_[c.slot] = conns_.back();
  conns_[c.slot]->slot = c.slot;
  conns_.pop_back();
  dead_conns_.push_back(&c);
}

}  // namespace anycastd::proxy
