#pragma once
// Small blocking servers and clients for the proxy's tests, on loopback or in a test's own
// network namespace: each backend answers with its own name, so a test sees where the proxy
// sent it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/socket_ops.hpp"

namespace anycastd::proxy::testing {

// Polls f until it holds or `limit` passes; its last answer.
template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return f();
}

inline Endpoint ep(const std::string& a, uint16_t port) {
  return {*IpAddress::parse(a), port};
}

inline void set_timeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Reads until EOF, error or timeout; what was read.
inline std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

inline bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// A socket bound at `at` (port 0: any) and the address it got; fd -1 when the bind fails.
struct BoundSocket {
  int fd = -1;
  Endpoint endpoint;
};
inline BoundSocket bound_socket(const Endpoint& at, int type) {
  BoundSocket b;
  b.fd = ::socket(at.address.is_v4() ? AF_INET : AF_INET6, type | SOCK_CLOEXEC, 0);
  int one = 1;
  if (type == SOCK_STREAM) ::setsockopt(b.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto sa = to_sockaddr(at);
  if (::bind(b.fd, sa.get(), sa.length) != 0) {
    ::close(b.fd);
    b.fd = -1;
    return b;
  }
  SockAddr local;
  local.length = sizeof local.storage;
  ::getsockname(b.fd, local.get(), &local.length);
  b.endpoint = from_sockaddr(local.get());
  return b;
}
inline BoundSocket bound_udp(const Endpoint& at) {
  return bound_socket(at, SOCK_DGRAM);
}
// A TCP listener at `at`; fd -1 when the bind or the listen fails.
inline BoundSocket tcp_listener(const Endpoint& at, int backlog = 128) {
  auto b = bound_socket(at, SOCK_STREAM);
  if (b.fd >= 0 && ::listen(b.fd, backlog) != 0) {
    ::close(b.fd);
    b.fd = -1;
  }
  return b;
}

// A TCP backend: each connection gets `answer(received)` after the client half-closes,
// then a close. A thread per connection keeps it simple.
class TcpBackend {
 public:
  using Answer = std::function<std::string(const std::string& received)>;
  TcpBackend(Endpoint at, Answer answer) : answer_(std::move(answer)) {
    auto l = tcp_listener(at);
    fd_ = l.fd;
    ok_ = fd_ >= 0;
    endpoint_ = l.endpoint;
    thread_ = std::thread([this] { serve(); });
  }
  ~TcpBackend() { stop(); }
  void stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    for (auto& t : conns_) t.join();
  }
  bool ok() const { return ok_; }
  Endpoint endpoint() const { return endpoint_; }
  int accepted() const { return accepted_.load(); }

 private:
  void serve() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      ++accepted_;
      conns_.emplace_back([this, c] {
        set_timeout(c, 5000);
        auto got = read_all(c);
        write_all(c, answer_(got));
        ::close(c);
      });
    }
  }
  Answer answer_;
  int fd_ = -1;
  bool ok_ = false;
  Endpoint endpoint_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::thread> conns_;
};

inline int tcp_connect(const Endpoint& to, int timeout_ms = 3000) {
  int fd = ::socket(to.address.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  set_timeout(fd, timeout_ms);
  auto sa = to_sockaddr(to);
  if (::connect(fd, sa.get(), sa.length) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request`, half-closes, returns all of the answer; "" on reset or refusal.
inline std::string exchange(const Endpoint& to, const std::string& request) {
  int fd = tcp_connect(to);
  if (fd < 0) return "";
  write_all(fd, request);
  ::shutdown(fd, SHUT_WR);
  auto out = read_all(fd);
  ::close(fd);
  return out;
}

// A UDP backend that answers "<name> <query> <the address it came from>".
class UdpEcho {
 public:
  UdpEcho(const std::string& address, std::string name, uint16_t port = 0)
      : name_(std::move(name)) {
    auto b = bound_udp(ep(address, port));
    fd_ = b.fd;
    endpoint_ = b.endpoint;
    set_timeout(fd_, 50);
    thread_ = std::thread([this] { serve(); });
  }
  ~UdpEcho() {
    done_ = true;
    thread_.join();
    ::close(fd_);
  }
  const Endpoint& endpoint() const { return endpoint_; }
  int received() const { return received_; }

 private:
  void serve() {
    char buf[512];
    while (!done_) {
      SockAddr from;
      from.length = sizeof from.storage;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, from.get(), &from.length);
      if (n <= 0) continue;
      ++received_;
      std::string answer = name_ + " " + std::string(buf, static_cast<size_t>(n)) + " " +
                           from_sockaddr(from.get()).to_string();
      ::sendto(fd_, answer.data(), answer.size(), 0, from.get(), from.length);
    }
  }
  std::string name_;
  int fd_ = -1;
  Endpoint endpoint_;
  std::atomic<bool> done_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

// A client socket at `address`, port chosen by the kernel.
class UdpClient {
 public:
  explicit UdpClient(const std::string& address) {
    auto b = bound_udp(ep(address, 0));
    fd_ = b.fd;
    self_ = b.endpoint;
    set_timeout(fd_, 1000);
  }
  ~UdpClient() { ::close(fd_); }
  const Endpoint& self() const { return self_; }
  // The answer and where it came from; empty when none came within the timeout.
  std::pair<std::string, std::string> ask(const Endpoint& vip, const std::string& q) {
    auto to = to_sockaddr(vip);
    ::sendto(fd_, q.data(), q.size(), 0, to.get(), to.length);
    char buf[512];
    SockAddr from;
    from.length = sizeof from.storage;
    ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, from.get(), &from.length);
    if (n <= 0) return {};
    return {std::string(buf, static_cast<size_t>(n)), from_sockaddr(from.get()).to_string()};
  }

 private:
  int fd_ = -1;
  Endpoint self_;
};

}  // namespace anycastd::proxy::testing
