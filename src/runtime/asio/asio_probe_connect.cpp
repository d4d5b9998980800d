#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <cerrno>

#include "core/errno_text.hpp"
#include "runtime/asio/asio_endpoint.hpp"
#include "runtime/asio/asio_transport.hpp"
#include "runtime/asio/connect_outcome.hpp"

namespace anycastd::rt {

namespace {

using asio::ip::tcp;

// Opens the socket with everything set that a probe needs: non-blocking and close-on-exec in
// one call, and a reset on close instead of a FIN exchange.
int open_probe_socket(const std::optional<IpAddress>& local, const tcp::endpoint& to, int& err) {
  int fd = ::socket(to.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  int on = 1;
  ::linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  if (local) {
    tcp::endpoint from(to_asio(*local), 0);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, from.data(), static_cast<socklen_t>(from.size())) != 0) {
      err = errno;
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace

AsioTransport::~AsioTransport() {
  for (auto& pool : probe_pool_)
    for (int fd : pool) ::close(fd);
}

std::shared_ptr<void> AsioTransport::probe_connect(std::optional<IpAddress> local, Endpoint remote,
                                                   ProbeCallback cb) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  auto report = [this, weak](ProbeCallback cb, int err) {
    asio::post(loop_.context(), [weak, cb = std::move(cb), err] {
      if (weak.expired()) return;
      cb(err == 0 ? std::nullopt : std::optional<std::string>(errno_text(err)));
    });
  };
  tcp::endpoint to(to_asio(remote.address), remote.port);
  // Sockets without a fixed source are reused: a connect() to AF_UNSPEC resets the
  // connection and leaves the socket as new, which spares the kernel a socket's creation and
  // release per check.
  auto& pool = probe_pool_[remote.address.is_v6()];
  int err = 0, fd = -1;
  if (!local && !pool.empty()) {
    fd = pool.back();
    pool.pop_back();
  } else {
    fd = open_probe_socket(local, to, err);
  }
  if (fd < 0) {
    report(std::move(cb), err);
    return token;
  }
  // The ACK delay is part of the state a reset clears.
  int off = 0;
  ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off);
  err = connect_now(fd, to);
  if (!connect_pending(err)) {
    bool reusable = !local && (err == ECONNREFUSED || err == 0) && pool.size() < 16;
    if (reusable && err == 0) {
      ::sockaddr unspec{};
      unspec.sa_family = AF_UNSPEC;
      reusable = ::connect(fd, &unspec, sizeof unspec) == 0;
    }
    if (reusable) {
      pool.push_back(fd);
    } else {
      ::close(fd);
    }
    report(std::move(cb), err);
    return token;
  }
  // Still connecting (a real network): wait for writability on the reactor.
  std::error_code ec;
  auto sock = std::make_shared<tcp::socket>(loop_.context());
  sock->assign(to.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    report(std::move(cb), ec.value());
    return token;
  }
  sock->async_wait(tcp::socket::wait_write,
                   [sock, weak, to, cb = std::move(cb)](const std::error_code& ec) {
                     if (weak.expired()) return;
                     int err = ec ? ec.value() : connect_outcome(sock->native_handle(), to);
                     std::error_code ignored;
                     sock->close(ignored);
                     cb(err == 0 ? std::nullopt : std::optional<std::string>(errno_text(err)));
                   });
  // Dropping the token abandons the attempt: closing the socket completes the handler.
  return std::shared_ptr<void>(token.get(), [token, sock](void*) mutable {
    std::error_code ignored;
    token.reset();
    sock->close(ignored);
  });
}

}  // namespace anycastd::rt
