#pragma once
// Conversions between our addresses and asio's, shared by the TCP and UDP sockets.
#include <asio/ip/address.hpp>

#include "runtime/transport.hpp"

namespace anycastd::rt {

inline asio::ip::address to_asio(const IpAddress& a) {
  if (a.is_v4()) return asio::ip::address_v4(a.v4_value());
  asio::ip::address_v6::bytes_type b;
  std::copy(a.raw().begin(), a.raw().end(), b.begin());
  return asio::ip::address_v6(b);
}

template <class AsioEndpoint>
Endpoint from_asio(const AsioEndpoint& e) {
  auto a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  IpAddress ip;
  if (a.is_v4()) {
    ip = IpAddress::v4(a.to_v4().to_uint());
  } else {
    std::array<uint8_t, 16> raw;
    auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), raw.begin());
    ip = IpAddress::v6(raw);
  }
  return {ip, e.port()};
}

}  // namespace anycastd::rt
