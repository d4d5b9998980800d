#pragma once
// The PROXY protocol v2 header (HAProxy's proxy-protocol.txt, section 2.2), so a backend
// behind the proxy sees the client's address. Encoding for the proxy, decoding for tests
// and for backends written against this library.
#include <optional>

#include "core/bytes.hpp"
#include "runtime/transport.hpp"

namespace anycastd::proxy {

// A PROXY command over TCP from `client` to `server` (the VIP); both of one family.
Bytes proxy_v2_header(const Endpoint& client, const Endpoint& server);

struct ProxyV2 {
  Endpoint client, server;
  size_t length = 0;  // header bytes to skip before the client's data
};
// nullopt: not (yet) a complete v2 header. A LOCAL command has no addresses.
std::optional<ProxyV2> parse_proxy_v2(ByteView data);

}  // namespace anycastd::proxy
