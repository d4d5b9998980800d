#include "runtime/asio/tcp_options.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace anycastd::rt {

std::string set_tcp_md5_key(int fd, const IpAddress& peer, const std::string& key) {
  if (key.size() > TCP_MD5SIG_MAXKEYLEN)
    return "TCP-MD5 key longer than " + std::to_string(TCP_MD5SIG_MAXKEYLEN) + " bytes";
  sockaddr_storage self{};
  socklen_t len = sizeof self;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) != 0)
    return std::string("getsockname: ") + std::strerror(errno);
  tcp_md5sig sig{};
  // The key's address is in the socket's own family: an IPv4 peer of an IPv6 (dual-stack)
  // socket is matched as ::ffff:a.b.c.d.
  if (self.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
    a->sin6_family = AF_INET6;
    if (peer.is_v4()) {
      uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      std::memcpy(mapped + 12, peer.raw().data(), 4);
      std::memcpy(&a->sin6_addr, mapped, 16);
    } else {
      std::memcpy(&a->sin6_addr, peer.raw().data(), 16);
    }
  } else {
    if (!peer.is_v4()) return "an IPv6 peer on an IPv4 socket";
    auto* a = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(peer.v4_value());
  }
  sig.tcpm_keylen = static_cast<uint16_t>(key.size());
  std::copy(key.begin(), key.end(), sig.tcpm_key);
  if (::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) != 0) {
    // Removing a key that was never set is not an error worth a line in the log.
    if (key.empty() && errno == ENOENT) return {};
    return std::string("TCP_MD5SIG: ") + std::strerror(errno);
  }
  return {};
}

std::string set_ttl(int fd, bool v6, int ttl) {
  int r = v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl)
             : ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  if (r != 0) return std::string(v6 ? "IPV6_UNICAST_HOPS: " : "IP_TTL: ") + std::strerror(errno);
  return {};
}

std::string set_min_ttl(int fd, bool v6, int min_ttl) {
  int r = v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min_ttl, sizeof min_ttl)
             : ::setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min_ttl, sizeof min_ttl);
  if (r != 0) return std::string(v6 ? "IPV6_MINHOPCOUNT: " : "IP_MINTTL: ") + std::strerror(errno);
  return {};
}

}  // namespace anycastd::rt
