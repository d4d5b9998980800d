#pragma once
// A TCP echo backend and a client for the translation path's tests: the backend answers each
// read with its name, what it read and the client's address, so a test sees where a
// connection went, and that the backend saw the client itself.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "loopback_servers.hpp"

namespace anycastd::proxy::testing {

// A TCP backend, a thread per connection, that answers every read with "<name> <what it
// read> <the client's address>" (unless `each` is false) and the end of the stream with
// "<name> read <bytes>".
class TcpEcho {
 public:
  TcpEcho(const std::string& address, std::string name, bool each = true)
      : name_(std::move(name)), each_(each) {
    auto l = tcp_listener(ep(address, 0), 64);
    fd_ = l.fd;
    endpoint_ = l.endpoint;
    thread_ = std::thread([this] { serve(); });
  }
  ~TcpEcho() {
    done_ = true;
    thread_.join();
    for (auto& t : conns_) t.join();
    ::close(fd_);
  }
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  void serve() {
    while (!done_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      SockAddr from;
      from.length = sizeof from.storage;
      int c = ::accept4(fd_, from.get(), &from.length, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string peer = from_sockaddr(from.get()).to_string();
      conns_.emplace_back([this, c, peer] { talk(c, peer); });
    }
  }
  void talk(int c, const std::string& peer) {
    set_timeout(c, 100);
    std::vector<char> buf(1 << 16);
    uint64_t total = 0;
    while (!done_) {
      ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
      if (n == 0) break;
      if (n < 0) continue;  // the timeout: look at done_ again
      total += static_cast<uint64_t>(n);
      if (each_)
        write_all(c, name_ + " " + std::string(buf.data(), static_cast<size_t>(n)) + " " + peer);
    }
    write_all(c, name_ + " read " + std::to_string(total));
    ::close(c);
  }
  std::string name_;
  bool each_;
  int fd_ = -1;
  Endpoint endpoint_;
  std::atomic<bool> done_{false};
  std::vector<std::thread> conns_;  // touched by serve() only, joined after it
  std::thread thread_;
};

// A TCP client at `address`; ask() sends and returns what one read brings.
class TcpClient {
 public:
  TcpClient(const std::string& address, const Endpoint& vip) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto me = to_sockaddr(ep(address, 0));
    ::bind(fd_, me.get(), me.length);
    set_timeout(fd_, 2000);
    auto to = to_sockaddr(vip);
    connected_ = ::connect(fd_, to.get(), to.length) == 0;
    SockAddr local;
    local.length = sizeof local.storage;
    ::getsockname(fd_, local.get(), &local.length);
    self_ = from_sockaddr(local.get());
    SockAddr peer;
    peer.length = sizeof peer.storage;
    if (::getpeername(fd_, peer.get(), &peer.length) == 0)
      peer_ = from_sockaddr(peer.get()).to_string();
  }
  ~TcpClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  const Endpoint& self() const { return self_; }
  const std::string& peer() const { return peer_; }
  int fd() const { return fd_; }
  std::string ask(const std::string& q) {
    if (!write_all(fd_, q)) return {};
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  Endpoint self_;
  std::string peer_;
};

}  // namespace anycastd::proxy::testing
