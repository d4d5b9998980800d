// How a connection ends, the same with either forwarding path: the forwarding threads
// (`user`) or the sockmap (`kernel`). Each test opens the connection and lets the backend
// accept it before any byte moves, so that on the kernel path the sockets are in the sockmap
// (asserted) when the interesting part starts. Loopback, 127.0.30.0/24; ctest runs tests in
// parallel processes, so each listens on an address and port of its own.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "loopback_servers.hpp"
#include "proxy/engine.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace anycastd::proxy::testing;
using namespace std::chrono_literals;

namespace {

// A listener whose connections the test accepts and drives itself.
class RawBackend {
 public:
  explicit RawBackend(const std::string& address) {
    auto l = tcp_listener(ep(address, 0), 64);
    fd_ = l.fd;
    endpoint_ = l.endpoint;
  }
  ~RawBackend() { ::close(fd_); }
  Endpoint endpoint() const { return endpoint_; }
  int accept(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return -1;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) set_timeout(c, 5000);
    return c;
  }

 private:
  int fd_ = -1;
  Endpoint endpoint_;
};

// Bytes whose position can be checked: a period that no buffer size divides.
class Pattern {
 public:
  static constexpr size_t kPeriod = (1 << 20) + 7;
  Pattern() : bytes_(2 * kPeriod) {
    for (size_t i = 0; i < bytes_.size(); ++i)
      bytes_[i] = static_cast<char>(((i % kPeriod) * 2654435761u) >> 13);
  }
  // `n` (at most kPeriod) bytes as they are at stream offset `at`.
  const char* at(uint64_t at) const { return bytes_.data() + at % kPeriod; }

 private:
  std::vector<char> bytes_;
};
const Pattern& pattern() {
  static const Pattern p;
  return p;
}

// Sends `total` pattern bytes; false if the connection failed first.
bool send_pattern(int fd, uint64_t total) {
  constexpr size_t kChunk = 256 << 10;
  for (uint64_t off = 0; off < total;) {
    ssize_t n =
        ::send(fd, pattern().at(off), std::min<uint64_t>(kChunk, total - off), MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<uint64_t>(n);
  }
  return true;
}

// Reads to the end; the count of bytes that matched the pattern before the first that did
// not (all of them, on a sound path), and the count read in all.
struct Received {
  uint64_t matching = 0, total = 0;
};
Received receive_pattern(int fd) {
  Received r;
  std::vector<char> buf(256 << 10);
  bool intact = true;
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) return r;
    if (intact && std::memcmp(buf.data(), pattern().at(r.total), static_cast<size_t>(n)) != 0) {
      for (ssize_t i = 0; i < n && buf[i] == pattern().at(r.total)[i]; ++i) ++r.matching;
      intact = false;
    } else if (intact) {
      r.matching += static_cast<uint64_t>(n);
    }
    r.total += static_cast<uint64_t>(n);
  }
}

void reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// An engine with one service at `listen` in front of `backend`.
Result<std::unique_ptr<Engine>, std::string> one_service(const std::string& name,
                                                         const Endpoint& listen,
                                                         const Endpoint& backend, Forwarding f,
                                                         uint32_t threads) {
  ServiceConfig s;
  s.name = name;
  s.listen = listen;
  s.backends.push_back({backend, 1, {}});
  s.forwarding = f;
  s.drain_time = 1s;
  ProxyConfig cfg;
  cfg.threads = threads;
  cfg.services.push_back(s);
  return Engine::start(cfg);
}

// recv's result after waiting up to `limit` for the connection to end.
ssize_t end_of(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return 1;  // still open
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT);
}

class ForwardingModes : public ::testing::TestWithParam<Forwarding> {
 protected:
  void SetUp() override {
    auto e = one_service("modes", vip_, backend_.endpoint(), GetParam(), 2);
    ASSERT_TRUE(e) << e.error();
    engine_ = std::move(*e);
    if (GetParam() == Forwarding::kernel && engine_->stats(0).forwarding != "kernel")
      GTEST_SKIP() << "no kernel path here: " << engine_->stats(0).forwarding_reason;
  }
  // A client connection that the backend has accepted, and on the kernel path is in the
  // sockmap. {client, backend}.
  std::pair<int, int> open() {
    int c = tcp_connect(vip_);
    int b = c >= 0 ? backend_.accept() : -1;
    ++opened_;
    if (GetParam() == Forwarding::kernel) {
      EXPECT_TRUE(eventually([&] { return engine_->stats(0).kernel_connections == opened_; }));
    }
    return {c, b};
  }
  bool all_closed() {
    return eventually([&] { return engine_->active_connections() == 0; });
  }

  // Per test (and path): two listeners on one address and port would share its connections.
  static Endpoint own_vip() {
    const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
    uint32_t h = 2166136261u;
    for (char ch : std::string(t->name()) + "/" + (t->value_param() ? t->value_param() : ""))
      h = (h ^ static_cast<uint8_t>(ch)) * 16777619u;
    return ep("127.0.30." + std::to_string(100 + h % 150), static_cast<uint16_t>(18100 + h % 800));
  }
  Endpoint vip_ = own_vip();
  RawBackend backend_{"127.0.30.10"};
  std::unique_ptr<Engine> engine_;
  uint64_t opened_ = 0;
};

TEST_P(ForwardingModes, ClientHalfCloseStillCarriesTheAnswer) {
  auto [c, b] = open();
  ASSERT_TRUE(write_all(c, "question"));
  ::shutdown(c, SHUT_WR);
  EXPECT_EQ(read_all(b), "question");  // the FIN came through, after the bytes
  ASSERT_TRUE(write_all(b, "answer"));
  ::close(b);
  EXPECT_EQ(read_all(c), "answer");
  ::close(c);
  EXPECT_TRUE(all_closed());
}

TEST_P(ForwardingModes, BackendHalfCloseStillTakesTheClientsBytes) {
  auto [c, b] = open();
  ASSERT_TRUE(write_all(b, "banner"));
  ::shutdown(b, SHUT_WR);
  EXPECT_EQ(read_all(c), "banner");
  std::thread up([c = c] {
    send_pattern(c, 8 << 20);
    ::shutdown(c, SHUT_WR);
  });
  auto got = receive_pattern(b);
  up.join();
  EXPECT_EQ(got.total, 8u << 20);
  EXPECT_EQ(got.matching, got.total);
  ::close(b);
  EXPECT_EQ(end_of(c, 2000ms), 0);  // a FIN, not a reset or silence
  ::close(c);
  EXPECT_TRUE(all_closed());
}

// A reset from one side (after a byte each way) ends the other side promptly.
void reset_reaches_the_other_side(int resetter, int other) {
  ASSERT_TRUE(write_all(resetter, "x"));
  char x;
  ASSERT_EQ(::recv(other, &x, 1, 0), 1);
  reset(resetter);
  EXPECT_LE(end_of(other, 2000ms), 0);
  ::close(other);
}

TEST_P(ForwardingModes, ClientResetReachesTheBackend) {
  auto [c, b] = open();
  reset_reaches_the_other_side(c, b);
  EXPECT_TRUE(all_closed());
}

TEST_P(ForwardingModes, BackendResetReachesTheClient) {
  auto [c, b] = open();
  reset_reaches_the_other_side(b, c);
  EXPECT_TRUE(all_closed());
}

TEST_P(ForwardingModes, SlowReaderHoldsTheSenderBackAndLosesNothing) {
  auto [c, b] = open();
  constexpr uint64_t kOffered = 96 << 20;
  std::atomic<uint64_t> sent{0};
  std::thread up([&, c = c] {
    ::fcntl(c, F_SETFL, O_NONBLOCK);
    auto end = std::chrono::steady_clock::now() + 10s;
    while (sent < kOffered && std::chrono::steady_clock::now() < end) {
      ssize_t n = ::send(c, pattern().at(sent), std::min<uint64_t>(256 << 10, kOffered - sent),
                         MSG_NOSIGNAL);
      if (n > 0)
        sent += static_cast<uint64_t>(n);
      else
        std::this_thread::sleep_for(1ms);
    }
    ::shutdown(c, SHUT_WR);
  });
  // The backend reads nothing for a second: what the client got rid of meanwhile is what the
  // path holds for it. Socket buffers (a few MiB each way on loopback) and, on the kernel
  // path, the 4 MiB budget; never the 96 MiB offered.
  std::this_thread::sleep_for(1s);
  uint64_t held = sent;
  EXPECT_LT(held, 24u << 20);
  auto got = receive_pattern(b);
  up.join();
  EXPECT_EQ(got.total, kOffered);
  EXPECT_EQ(got.matching, got.total);
  ::close(b);
  ::close(c);
  EXPECT_TRUE(all_closed());
}

TEST_P(ForwardingModes, DrainLetsOpenConnectionsFinishAndResetsTheLateOnes) {
  auto [c, b] = open();
  engine_->drain(0);
  EXPECT_EQ(exchange(vip_, "new"), "");  // refused while draining
  // The open one still carries bytes both ways and ends cleanly inside the drain time.
  ASSERT_TRUE(write_all(c, "more"));
  ::shutdown(c, SHUT_WR);
  EXPECT_EQ(read_all(b), "more");
  ASSERT_TRUE(write_all(b, "done"));
  ::close(b);
  EXPECT_EQ(read_all(c), "done");
  ::close(c);
  EXPECT_TRUE(all_closed());
  // One still open at the deadline is reset.
  engine_->undrain(0);
  auto [c2, b2] = open();
  engine_->drain(0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_LT(end_of(c2, 3000ms), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);
  EXPECT_LE(end_of(b2, 1000ms), 0);
  ::close(c2);
  ::close(b2);
}

// The operator drains the only backend at run time (or sets its weight to 0): its open
// connection carries on both ways, new ones are refused at once; ready (or the weight back)
// and new ones reach it again.
TEST_P(ForwardingModes, BackendDrainedAtRunTimeKeepsItsOpenConnection) {
  auto [c, b] = open();
  engine_->set_backend_admin(0, 0, AdminState::drain);
  EXPECT_EQ(exchange(vip_, "new"), "");
  engine_->set_backend_admin(0, 0, AdminState::maint);
  EXPECT_EQ(exchange(vip_, "new"), "");
  engine_->set_backend_admin(0, 0, AdminState::ready);
  engine_->set_backend_weight(0, 0, 0);
  EXPECT_EQ(exchange(vip_, "new"), "");
  EXPECT_EQ(engine_->stats(0).refused, 3u);
  ASSERT_TRUE(write_all(c, "more"));
  ::shutdown(c, SHUT_WR);
  EXPECT_EQ(read_all(b), "more");
  ASSERT_TRUE(write_all(b, "done"));
  ::close(b);
  EXPECT_EQ(read_all(c), "done");
  ::close(c);
  engine_->set_backend_weight(0, 0, 1);
  auto [c2, b2] = open();
  EXPECT_GE(c2, 0);
  EXPECT_GE(b2, 0) << "the backend takes new connections again";
  ::close(c2);
  ::close(b2);
  EXPECT_TRUE(all_closed());
}

// maint with --close: the backend's open connection is reset at once (within a sweep), on
// both sides; nothing new reaches it.
TEST_P(ForwardingModes, MaintWithCloseResetsTheOpenConnection) {
  auto [c, b] = open();
  ASSERT_TRUE(write_all(c, "hello"));
  char buf[5];
  ASSERT_EQ(::recv(b, buf, sizeof buf, MSG_WAITALL), 5);
  engine_->set_backend_admin(0, 0, AdminState::maint);
  engine_->close_backend_connections(0, 0);
  EXPECT_LT(end_of(c, 3000ms), 0) << "the client's connection is reset";
  EXPECT_LE(end_of(b, 3000ms), 0) << "and the backend's ended";
  ::close(c);
  ::close(b);
  EXPECT_TRUE(all_closed());
  EXPECT_EQ(exchange(vip_, "new"), "");
  // Back in service, a new connection is not touched by the earlier close.
  engine_->set_backend_admin(0, 0, AdminState::ready);
  auto [c2, b2] = open();
  ASSERT_TRUE(write_all(c2, "again"));
  char buf2[5];
  EXPECT_EQ(::recv(b2, buf2, sizeof buf2, MSG_WAITALL), 5);
  ::close(c2);
  ::close(b2);
}

TEST_P(ForwardingModes, BackendKilledMidStreamEndsTheClientWithWhatWasSent) {
  auto [c, b] = open();
  // The backend streams; once the client has 1 MiB of it, the backend dies with the client's
  // last request unread, so its kernel resets the connection.
  ASSERT_TRUE(write_all(c, "unread"));
  ASSERT_TRUE(eventually([&, b = b] {
    int n = 0;
    return ::ioctl(b, FIONREAD, &n) == 0 && n == 6;
  }));
  std::atomic<bool> die{false};
  std::thread backend([&, b = b] {
    for (uint64_t off = 0; !die && off < (uint64_t{1} << 30);) {
      ssize_t n = ::send(b, pattern().at(off), 64 << 10, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<uint64_t>(n);
    }
    reset(b);
  });
  std::vector<char> buf(64 << 10);
  uint64_t total = 0;
  bool intact = true;
  for (ssize_t n; (n = ::recv(c, buf.data(), buf.size(), 0)) > 0;) {
    intact = intact && std::memcmp(buf.data(), pattern().at(total), static_cast<size_t>(n)) == 0;
    total += static_cast<uint64_t>(n);
    if (total >= (1u << 20)) die = true;
  }
  die = true;
  backend.join();
  EXPECT_TRUE(intact);  // a prefix of what was sent, then the end
  EXPECT_GE(total, 1u << 20);
  EXPECT_LT(total, uint64_t{1} << 30);
  ::close(c);
  EXPECT_TRUE(all_closed());
}

TEST_P(ForwardingModes, GibibyteEachWayArrivesByteForByte) {
  auto [c, b] = open();
  constexpr uint64_t kTotal = uint64_t{1} << 30;
  Received up, down;
  std::thread backend([&, b = b] {
    std::thread tx([b] {
      send_pattern(b, kTotal);
      ::shutdown(b, SHUT_WR);
    });
    up = receive_pattern(b);
    tx.join();
  });
  std::thread tx([c = c] {
    send_pattern(c, kTotal);
    ::shutdown(c, SHUT_WR);
  });
  down = receive_pattern(c);
  tx.join();
  backend.join();
  EXPECT_EQ(up.total, kTotal);
  EXPECT_EQ(up.matching, kTotal);
  EXPECT_EQ(down.total, kTotal);
  EXPECT_EQ(down.matching, kTotal);
  ::close(b);
  ::close(c);
  EXPECT_TRUE(all_closed());
  // Counted on either path: what the verdict took, or what the threads wrote.
  EXPECT_TRUE(eventually([&] { return engine_->stats(0).bytes_in == kTotal; }));
  EXPECT_TRUE(eventually([&] { return engine_->stats(0).bytes_out == kTotal; }));
}

// The kernel hands the verdict a retransmitted segment whole even when it starts before what
// TCP already received (on loopback, two cores reorder segments and the sender retransmits).
// Forwarded whole, its old part reached the client twice: 64 KiB repeated in about 1 GiB
// downloaded out of 20. Eight downloads fast enough to overrun the budget (so bytes also go
// through the thread, where reordering is most common) must each arrive exactly.
TEST(KernelPath, RepeatedSegmentsAreNotForwardedTwice) {
  RawBackend backend("127.0.30.20");
  const Endpoint listen = ep("127.0.30.2", 18091);
  auto e = one_service("repeats", listen, backend.endpoint(), Forwarding::kernel, 2);
  if (!e) GTEST_SKIP() << "no kernel path here: " << e.error();
  constexpr uint64_t kTotal = uint64_t{1} << 30;
  for (uint64_t round = 1; round <= 8; ++round) {
    int c = tcp_connect(listen);
    int b = backend.accept();
    ASSERT_TRUE(eventually([&] { return (*e)->stats(0).kernel_connections == round; }));
    std::thread tx([b] {
      send_pattern(b, kTotal);
      ::shutdown(b, SHUT_WR);
    });
    auto got = receive_pattern(c);
    tx.join();
    EXPECT_EQ(got.total, kTotal) << "download " << round;
    EXPECT_EQ(got.matching, kTotal) << "download " << round;
    ::close(b);
    ::close(c);
  }
}

// `auto` leaves a one-request connection with the threads (the kernel path's set-up costs
// more system calls than it saves there) and hands one that goes back and forth to the
// kernel once a second request comes, without losing or reordering a byte.
TEST(AutoForwarding, HandsConnectionsThatGoBackAndForthToTheKernel) {
  RawBackend backend("127.0.30.30");
  const Endpoint listen = ep("127.0.30.3", 18093);
  auto started = one_service("auto", listen, backend.endpoint(), Forwarding::automatic, 1);
  ASSERT_TRUE(started) << started.error();
  auto& e = *started;
  if (e->stats(0).forwarding != "kernel")
    GTEST_SKIP() << "no kernel path here: " << e->stats(0).forwarding_reason;

  int c = tcp_connect(listen);
  int b = backend.accept();
  ASSERT_TRUE(write_all(c, "GET /one"));
  ASSERT_TRUE(write_all(b, "answer one"));
  char buf[64];
  ASSERT_EQ(::recv(b, buf, sizeof buf, 0), 8);
  ASSERT_EQ(::recv(c, buf, sizeof buf, 0), 10);
  EXPECT_EQ(e->stats(0).kernel_connections, 0u);  // one request and its answer so far
  for (int i = 2; i <= 50; ++i) {
    auto q = "GET /" + std::to_string(i), a = "answer " + std::to_string(i);
    ASSERT_TRUE(write_all(c, q));
    std::string got(q.size(), '\0');
    ASSERT_EQ(::recv(b, got.data(), got.size(), MSG_WAITALL), static_cast<ssize_t>(q.size()));
    EXPECT_EQ(got, q);
    ASSERT_TRUE(write_all(b, a));
    std::string back(a.size(), '\0');
    ASSERT_EQ(::recv(c, back.data(), back.size(), MSG_WAITALL), static_cast<ssize_t>(a.size()));
    EXPECT_EQ(back, a);
  }
  // The kernel forwards from the moment both sockets are in its map, a moment before the
  // thread counts the connection: on a busy machine every later exchange can come first.
  EXPECT_TRUE(eventually([&] { return e->stats(0).kernel_connections == 1; }));
  ::close(b);
  EXPECT_EQ(end_of(c, 2000ms), 0);
  ::close(c);

  // A connection with one request and one answer stays in user space.
  std::thread answer([&] {
    int b2 = backend.accept();
    read_all(b2);
    write_all(b2, "only");
    ::close(b2);
  });
  EXPECT_EQ(exchange(listen, "once"), "only");
  answer.join();
  EXPECT_EQ(e->stats(0).kernel_connections, 1u);
  EXPECT_TRUE(eventually([&] { return e->active_connections() == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Paths, ForwardingModes,
                         ::testing::Values(Forwarding::user, Forwarding::kernel),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
