#pragma once
// The kernel side of TcpOptions: TCP-MD5 keys (RFC 2385) and the TTL of a BGP socket.
#include <string>

#include "core/ip.hpp"

namespace anycastd::rt {

// Installs (or, with an empty key, removes) the TCP-MD5 key for segments to and from `peer`
// on socket `fd`. On a listener the key is inherited by the connections it accepts, and
// the kernel drops unsigned or wrongly signed SYNs from that peer. The error, or empty.
std::string set_tcp_md5_key(int fd, const IpAddress& peer, const std::string& key);

// Sets the unicast TTL (IPv4) or hop limit (IPv6) of `fd`'s outgoing segments.
std::string set_ttl(int fd, bool v6, int ttl);

// Drops segments with a TTL (hop limit) below `min_ttl` (GTSM, RFC 5082).
std::string set_min_ttl(int fd, bool v6, int min_ttl);

}  // namespace anycastd::rt
