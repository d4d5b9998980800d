#include "proxy/proxy_protocol.hpp"

#include <algorithm>
#include <array>

namespace anycastd::proxy {

namespace {

constexpr std::array<uint8_t, 12> kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr uint8_t kVersion2Proxy = 0x21, kVersion2Local = 0x20;
constexpr uint8_t kTcp4 = 0x11, kTcp6 = 0x21;

void address(ByteWriter& w, const IpAddress& a) {
  w.bytes(std::as_bytes(std::span(a.raw().data(), a.byte_size())));
}

std::optional<IpAddress> read_address(ByteReader& r, bool v6) {
  ByteView v;
  if (!r.view(v6 ? 16 : 4, v)) return std::nullopt;
  if (!v6)
    return IpAddress::v4((uint32_t(v[0]) << 24) | (uint32_t(v[1]) << 16) | (uint32_t(v[2]) << 8) |
                         uint32_t(v[3]));
  std::array<uint8_t, 16> b;
  std::transform(v.begin(), v.end(), b.begin(), [](std::byte x) { return uint8_t(x); });
  return IpAddress::v6(b);
}

}  // namespace

Bytes proxy_v2_header(const Endpoint& client, const Endpoint& server) {
  Bytes out;
  ByteWriter w(out);
  for (auto b : kSignature) w.u8(b);
  w.u8(kVersion2Proxy);
  bool v6 = client.address.is_v6();
  w.u8(v6 ? kTcp6 : kTcp4);
  w.u16(v6 ? 36 : 12);
  address(w, client.address);
  address(w, server.address);
  w.u16(client.port);
  w.u16(server.port);
  return out;
}

std::optional<ProxyV2> parse_proxy_v2(ByteView data) {
  ByteReader r(data);
  for (auto b : kSignature) {
    uint8_t got;
    if (!r.u8(got) || got != b) return std::nullopt;
  }
  uint8_t ver_cmd, family;
  uint16_t length;
  if (!r.u8(ver_cmd) || !r.u8(family) || !r.u16(length)) return std::nullopt;
  ByteReader body;
  if (!r.sub(length, body)) return std::nullopt;
  ProxyV2 out;
  out.length = 16 + length;
  if (ver_cmd == kVersion2Local) return out;
  if (ver_cmd != kVersion2Proxy || (family != kTcp4 && family != kTcp6)) return std::nullopt;
  bool v6 = family == kTcp6;
  auto src = read_address(body, v6), dst = read_address(body, v6);
  uint16_t sport, dport;
  if (!src || !dst || !body.u16(sport) || !body.u16(dport)) return std::nullopt;
  out.client = {*src, sport};
  out.server = {*dst, dport};
  return out;
}

}  // namespace anycastd::proxy
