#pragma once
// How a non-blocking connect() ended, asked without the reactor.
#include <sys/socket.h>

#include <asio/ip/tcp.hpp>
#include <cerrno>

namespace anycastd::rt {

// A second connect() on a non-blocking socket reports how the first one ended: 0 once
// established, EALREADY while the handshake is under way, the failure otherwise. On
// loopback the handshake has finished by the time the first connect() returns, so the
// outcome is known at once and the reactor need not be asked.
inline int connect_outcome(int fd, const asio::ip::tcp::endpoint& to) {
  if (::connect(fd, to.data(), static_cast<socklen_t>(to.size())) == 0) return 0;
  return errno == EISCONN ? 0 : errno;
}

// Starts a non-blocking connect() and, when it is in progress, asks for its outcome at once.
inline int connect_now(int fd, const asio::ip::tcp::endpoint& to) {
  int err = ::connect(fd, to.data(), static_cast<socklen_t>(to.size())) == 0 ? 0 : errno;
  return err == EINPROGRESS ? connect_outcome(fd, to) : err;
}

inline bool connect_pending(int err) {
  return err == EALREADY || err == EINPROGRESS;
}

}  // namespace anycastd::rt
