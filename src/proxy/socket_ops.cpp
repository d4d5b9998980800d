#include "proxy/socket_ops.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace anycastd::proxy {

SockAddr to_sockaddr(const Endpoint& e) {
  SockAddr s;
  if (e.address.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_in*>(&s.storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(e.port);
    a->sin_addr.s_addr = htonl(e.address.v4_value());
    s.length = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&s.storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(e.port);
    std::memcpy(&a->sin6_addr, e.address.raw().data(), 16);
    s.length = sizeof(sockaddr_in6);
  }
  return s;
}

Endpoint from_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(sa);
    return {IpAddress::v4(ntohl(a->sin_addr.s_addr)), ntohs(a->sin_port)};
  }
  auto* a = reinterpret_cast<const sockaddr_in6*>(sa);
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), &a->sin6_addr, 16);
  return {IpAddress::v6(b), ntohs(a->sin6_port)};
}

namespace {
int family_of(const Endpoint& e) {
  return e.address.is_v4() ? AF_INET : AF_INET6;
}
int type_of(Protocol p) {
  return (p == Protocol::tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
}
}  // namespace

Result<int, std::string> open_listener(const Endpoint& at, Protocol p) {
  int fd = ::socket(family_of(at), type_of(p), 0);
  if (fd < 0) return Err(std::string("socket: ") + errno_text(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (at.address.is_v4())
    ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  else
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
  auto sa = to_sockaddr(at);
  if (::bind(fd, sa.get(), sa.length) < 0 || (p == Protocol::tcp && ::listen(fd, SOMAXCONN) < 0)) {
    int err = errno;
    ::close(fd);
    return Err("bind " + at.to_string() + ": " + errno_text(err));
  }
  return fd;
}

Result<int, std::string> start_connect(const Endpoint& to, Protocol p, bool& in_progress) {
  int fd = ::socket(family_of(to), type_of(p), 0);
  if (fd < 0) return Err(std::string("socket: ") + errno_text(errno));
  if (p == Protocol::tcp) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  auto sa = to_sockaddr(to);
  in_progress = false;
  if (::connect(fd, sa.get(), sa.length) < 0) {
    if (errno == EINPROGRESS) {
      in_progress = true;
    } else {
      int err = errno;
      ::close(fd);
      return Err(errno_text(err));
    }
  }
  return fd;
}

void close_reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

}  // namespace anycastd::proxy
