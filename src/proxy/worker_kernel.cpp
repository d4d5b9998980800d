// The in-kernel TCP path, as a forwarding thread runs it. After accept, balancing and the
// backend's connect (and the PROXY header), both sockets go into the sockmap and the verdict
// program (bpf/forward.bpf.c) moves their bytes; this thread wakes only when
//   - the verdict passed bytes to it (a direction over its budget: a slow reader), which it
//     writes on itself, after every byte redirected before them has reached the far socket;
//   - a direction's budget is half spent (its ring), to set the next one from what the far
//     socket has really taken;
//   - a side half-closes or fails.
// A FIN shows before the verdict has moved the bytes in front of it, so a direction ends only
// once the far socket holds every byte the near one received; until then the connection is
// rechecked with a growing delay.
#include <bpf/libbpf.h>
#include <linux/sockios.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_acked and tcpi_bytes_received
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/ring_record.hpp"
#include "proxy/sockmap.hpp"
#include "proxy/worker.hpp"

namespace anycastd::proxy {

namespace {

// How far a direction's redirected bytes may run ahead of what the far socket has taken
// before the verdict stops redirecting: the most the kernel holds for a slow reader, besides
// the sockets' own buffers.
constexpr uint64_t kWindow = 4 << 20;
// A direction that ran over its budget stays with the thread until it has been quiet this
// long (the end of a large response, say): a stream that keeps coming faster than the kernel
// can send it on moves faster through the thread than back and forth between the two.
constexpr auto kQuietBeforeResume = std::chrono::milliseconds(5);
// Passed bytes come in bursts (a stream faster than the kernel's sending, or a reader that
// was slow and caught up); large reads keep up with them. Not a pooled buffer, and freed when
// the direction goes back to the kernel.
constexpr uint32_t kPassBuffer = 64 << 10;
constexpr auto kFirstRecheck = std::chrono::microseconds(50);
constexpr auto kLastRecheck = std::chrono::microseconds(50'000);

// Bytes ever written into `fd`'s send queue: acknowledged, plus still queued. Read in that
// order, so a concurrent acknowledgement can make it smaller, never larger.
uint64_t queued(int fd) {
  tcp_info t{};
  socklen_t len = sizeof t;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &t, &len) < 0) return 0;
  int q = 0;
  if (::ioctl(fd, SIOCOUTQ, &q) < 0) return 0;
  return t.tcpi_bytes_acked + static_cast<uint64_t>(q);
}

// Data bytes received on `fd`, once its peer's FIN has come: tcpi_bytes_received follows the
// receive sequence, which counts the FIN as one more.
uint64_t received_before_fin(int fd) {
  tcp_info t{};
  socklen_t len = sizeof t;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &t, &len) < 0 || t.tcpi_bytes_received == 0) return 0;
  return t.tcpi_bytes_received - 1;
}

template <typename T>
T load(const T& v) {
  return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}

}  // namespace

void Worker::open_ring() {
  sockmap_ = engine_.sockmap();
  if (!sockmap_) return;
  ring_ = ring_buffer__new(sockmap_->ring_fd(index_), &Worker::on_ring_record, this, nullptr);
  // Without its ring a thread still forwards in the kernel; budgets are then renewed only
  // when a direction has passed bytes to it.
  if (ring_) add(sockmap_->ring_fd(index_), &ring_handle_, EPOLLIN);
}

// What epoll reports for a side on the kernel path: its peer's FIN or a failure, not its
// data (the kernel wakes a socket's readers for every arrival, redirected or not). Readable
// and writable are added only while the thread moves passed bytes.
constexpr uint32_t kKernelEvents = EPOLLRDHUP | EPOLLET;

bool Worker::enter_kernel(Conn& c) {
  auto back_to_user = [&] {
    watch(c.client, kUserEvents);
    c.turns = 0;  // with `auto`, not again before another round trip
    return false;
  };
  if (!sockmap_ || !engine_.services()[c.service]->kernel) return false;
  // A socket that has its peer's FIN cannot join a sockmap: such a connection (a client that
  // sent its request and half-closed, say) is forwarded in user space.
  if (c.client.hup || c.backend.hup) return back_to_user();
  auto pair = sockmap_->acquire();
  if (!pair) return back_to_user();  // every pair in use
  auto& k = c.kernel.emplace();
  k.pair = *pair;
  k.base[0] = c.up.forwarded;
  k.base[1] = c.down.forwarded;
  k.taken[0] = c.up.taken;
  k.taken[1] = c.down.taken;
  if (by_pair_.size() <= *pair) by_pair_.resize(*pair + 1, nullptr);
  by_pair_[*pair] = &c;
  switch (sockmap_->insert(*pair, c.client.fd, c.backend.fd, index_, kWindow)) {
    case Sockmap::Inserted::neither:
      by_pair_[*pair] = nullptr;
      c.kernel.reset();
      return back_to_user();
    case Sockmap::Inserted::one:
      // The backend half-closed in the microseconds since its connect: taking the client
      // back out could lose bytes arriving meanwhile, so the connection is reset instead.
      finish(c, true);
      return true;
    case Sockmap::Inserted::both:
      break;
  }
  k.generation = sockmap_->generation(*pair);
  engine_.services()[c.service]->kernel_connections.fetch_add(1, std::memory_order_relaxed);
  // The user-space buffers are empty here; this path reads passed bytes into larger ones.
  for (Direction* d : {&c.up, &c.down}) {
    if (d->buf) free_buffers_.push_back(d->buf);
    d->buf = nullptr;
    d->head = d->tail = 0;
  }
  watch(c.backend, kKernelEvents);
  watch(c.client, kKernelEvents);
  kernel_step(c);
  return true;
}

void Worker::kernel_step(Conn& c) {
  if (c.dead) return;
  bool wait = false;
  for (int k = 0; k < 2; ++k) {
    if (!move_passed(c, k, wait)) return finish(c, true);
  }
  for (int k = 0; k < 2; ++k) {
    end_direction(c, k, wait);
    if (c.dead) return;
  }
  if (wait) {
    schedule_recheck(c);
  } else {
    c.kernel->backoff = {};
  }
}

// Bytes the verdict passed to this thread (the direction was over its budget) go on through
// its buffer, as on the user-space path, but only after everything redirected before them
// is in the far socket. Once all are written, the direction gets a new budget and the
// verdict takes over again.
bool Worker::move_passed(Conn& c, int k, bool& wait) {
  auto& kc = *c.kernel;
  Direction& d = k ? c.down : c.up;
  Side& from = k ? c.backend : c.client;
  Side& to = k ? c.client : c.backend;
  auto& st = sockmap_->direction(2 * kc.pair + static_cast<uint32_t>(k));
  // The other direction's needs, so that changing this one's keeps them.
  const Direction& other = k ? c.up : c.down;
  const uint32_t from_out = other.tail > other.head ? uint32_t{EPOLLOUT} : 0;
  // A repeat record that did not fit in the ring: which bytes to leave out is unknown.
  if (load(st.flags) & FORWARD_LOST) return false;
  for (;;) {
    if (d.tail > d.head) {
      if (!to.writable) {
        watch(to, to.events | EPOLLOUT);
        return true;
      }
      ssize_t n = ::send(to.fd, d.buf + d.head, d.tail - d.head, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return false;
        to.writable = false;
        continue;
      }
      if ((d.head += static_cast<uint32_t>(n)) == d.tail) d.head = d.tail = 0;
      __atomic_fetch_add(&st.written, static_cast<uint64_t>(n), __ATOMIC_SEQ_CST);
      continue;
    }
    if (to.events & EPOLLOUT) watch(to, to.events & ~uint32_t{EPOLLOUT});
    const uint64_t passed = __atomic_load_n(&st.passed, __ATOMIC_SEQ_CST);
    if (passed == st.written) {
      if (load(st.mode) != FORWARD_PASS) {
        // Caught up: the verdict rings if it passes more, so stop listening for it.
        kc.caught_up[k] = false;
        if (from.events & EPOLLIN) watch(from, kKernelEvents | from_out);
        return true;
      }
      // In PASS every byte that comes is passed, so an unchanged count is quiet.
      auto now = std::chrono::steady_clock::now();
      if (kc.quiet_since[k] == SteadyTime{} || kc.quiet_at[k] != passed) {
        kc.quiet_since[k] = now;
        kc.quiet_at[k] = passed;
      }
      if (now - kc.quiet_since[k] < kQuietBeforeResume) {
        wait = true;
        return true;
      }
      kc.quiet_since[k] = {};
      kc.caught_up[k] = false;
      delete[] d.buf;  // the next burst may be a while off
      d.buf = nullptr;
      if (from.events & EPOLLIN) watch(from, kKernelEvents | from_out);
      set_budget(c, k);
      __atomic_store_n(&st.mode, uint32_t{FORWARD_RESUME}, __ATOMIC_RELEASE);
      return true;
    }
    if (!(from.events & EPOLLIN)) {
      watch(from, kKernelEvents | EPOLLIN | from_out);
      from.readable = true;
    }
    // While passed bytes wait to be written the verdict redirects nothing, so `redirected`
    // holds still.
    if (!kc.caught_up[k]) {
      if (queued(to.fd) < kc.base[k] + load(st.redirected) + st.written - kc.dropped[k]) {
        wait = true;
        return true;
      }
      kc.caught_up[k] = true;
    }
    if (!from.readable) return true;
    if (!d.buf) d.buf = new char[kPassBuffer];
    ssize_t n = ::recv(from.fd, d.buf, kPassBuffer, 0);
    if (n > 0) {
      // The verdict rang before it queued these bytes: the records are in by now.
      drain_ring();
      d.tail = leave_out_repeats(c, k, static_cast<uint32_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    // Nothing passed is queued now (0 only says a FIN came; the counters say when the
    // direction ends). The verdict's next pass raises EPOLLIN again.
    from.readable = false;
    return true;
  }
}

void Worker::end_direction(Conn& c, int k, bool& wait) {
  auto& kc = *c.kernel;
  Direction& d = k ? c.down : c.up;
  Side& from = k ? c.backend : c.client;
  Side& to = k ? c.client : c.backend;
  if (!from.hup || d.shut) return;
  auto& st = sockmap_->direction(2 * kc.pair + static_cast<uint32_t>(k));
  if (d.tail > d.head || load(st.passed) != st.written) return;  // an event follows
  if (kc.taken[k] + load(st.seen) < received_before_fin(from.fd) ||
      queued(to.fd) < kc.base[k] + load(st.redirected) + st.written - kc.dropped[k]) {
    wait = true;
    return;
  }
  d.eof = d.shut = true;
  const Direction& other = k ? c.up : c.down;
  // As on the user-space path, the last direction to end closes instead of shutting down.
  if (other.shut) return finish(c, false);
  ::shutdown(to.fd, SHUT_WR);
}

void Worker::set_budget(Conn& c, int k) {
  auto& kc = *c.kernel;
  const Side& to = k ? c.client : c.backend;
  auto& st = sockmap_->direction(2 * kc.pair + static_cast<uint32_t>(k));
  uint64_t have = queued(to.fd);
  uint64_t taken = have > kc.base[k] ? have - kc.base[k] : 0;
  __atomic_store_n(&st.limit, taken + kWindow, __ATOMIC_RELAXED);
  __atomic_store_n(&st.notify_at, taken + kWindow / 2, __ATOMIC_RELAXED);
}

// Passed bytes [read, read + n), just read into the direction's buffer: those a repeat record
// names are left out (and count as dealt with, for the verdict). The bytes kept.
uint32_t Worker::leave_out_repeats(Conn& c, int k, uint32_t n) {
  auto& kc = *c.kernel;
  Direction& d = k ? c.down : c.up;
  auto& st = sockmap_->direction(2 * kc.pair + static_cast<uint32_t>(k));
  const uint64_t from = kc.read[k], to = from + n;
  kc.read[k] = to;
  auto& rs = kc.repeats[k];
  uint32_t kept = n, removed = 0;
  while (!rs.empty() && rs.front().first < to) {
    auto [at, count] = rs.front();
    uint64_t lo = std::max(at, from), hi = std::min(at + count, to);
    if (hi > lo) {
      // Offsets in the buffer, shifted by what was already taken out of it.
      uint32_t a = static_cast<uint32_t>(lo - from) - removed, b = static_cast<uint32_t>(hi - lo);
      std::memmove(d.buf + a, d.buf + a + b, kept - a - b);
      kept -= b;
      removed += b;
    }
    if (at + count <= to) {
      rs.erase(rs.begin());
    } else {
      rs.front() = {to, at + count - to};
      break;
    }
  }
  if (removed) {
    kc.dropped[k] += removed;
    __atomic_fetch_add(&st.written, uint64_t{removed}, __ATOMIC_SEQ_CST);
  }
  return kept;
}

int Worker::on_ring_record(void* self, void* data, size_t size) {
  auto& w = *static_cast<Worker*>(self);
  forward_record r;
  if (size < sizeof r) return 0;
  std::memcpy(&r, data, sizeof r);
  if (r.kind == FORWARD_NOTICE) {
    w.notices_.push_back(r);
    return 0;
  }
  // A stale record (its connection ended since) names a pair this thread no longer has, or
  // one a newer connection holds: its repeat would cut that connection's bytes.
  if (auto* c = ring_record_owner(w.by_pair_, r))
    c->kernel->repeats[r.index & 1].emplace_back(r.at, r.count);
  return 0;
}

void Worker::drain_ring() {
  if (ring_) ring_buffer__consume(ring_);
}

void Worker::on_notice(const forward_record& r) {
  const uint32_t index = r.index;
  auto* owner = ring_record_owner(by_pair_, r);
  if (!owner) return;
  Conn& c = *owner;
  auto& st = sockmap_->direction(index);
  if (load(st.passed) != st.written) return kernel_step(c);  // bytes passed to us
  if (load(st.mode) == FORWARD_REDIRECT) set_budget(c, static_cast<int>(index & 1));
}

void Worker::schedule_recheck(Conn& c) {
  auto& kc = *c.kernel;
  kc.backoff = kc.backoff.count()
                   ? std::min<std::chrono::microseconds>(2 * kc.backoff, kLastRecheck)
                   : kFirstRecheck;
  kc.recheck = std::chrono::steady_clock::now() + kc.backoff;
  if (!kc.waiting) {
    kc.waiting = true;
    rechecks_.push_back(&c);
  }
}

void Worker::recheck_due() {
  auto now = std::chrono::steady_clock::now();
  std::vector<Conn*> due;
  for (size_t i = 0; i < rechecks_.size();) {
    Conn* c = rechecks_[i];
    if (c->kernel->recheck > now) {
      ++i;
      continue;
    }
    c->kernel->waiting = false;
    due.push_back(c);
    rechecks_[i] = rechecks_.back();
    rechecks_.pop_back();
  }
  for (Conn* c : due) kernel_step(*c);
}

// After both sockets are closed, which takes them out of the sockmap.
void Worker::leave_kernel(Conn& c) {
  auto& kc = *c.kernel;
  if (kc.waiting) std::erase(rechecks_, &c);
  by_pair_[kc.pair] = nullptr;
  sockmap_->release(kc.pair);
  c.kernel.reset();
}

}  // namespace anycastd::proxy
