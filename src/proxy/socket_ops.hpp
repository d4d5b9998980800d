#pragma once
// The few socket calls the forwarding threads make, on raw descriptors: the data plane
// runs its own epoll loops, apart from the control plane's Asio loop.
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "core/errno_text.hpp"
#include "core/result.hpp"
#include "proxy/service_config.hpp"

namespace anycastd::proxy {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SockAddr to_sockaddr(const Endpoint& e);
Endpoint from_sockaddr(const sockaddr* a);

// A non-blocking listening socket (tcp) or bound socket (udp) with SO_REUSEPORT, one per
// forwarding thread, and IP_FREEBIND, so the VIP need not be configured yet.
Result<int, std::string> open_listener(const Endpoint& at, Protocol p);
// A non-blocking socket with connect() begun; 0 in `in_progress` means already connected.
Result<int, std::string> start_connect(const Endpoint& to, Protocol p, bool& in_progress);
// Closes with a reset (SO_LINGER 0): the peer learns at once, and no TIME_WAIT remains.
void close_reset(int fd);

}  // namespace anycastd::proxy
