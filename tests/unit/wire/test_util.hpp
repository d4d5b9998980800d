#pragma once
#include <string>

#include "wire/codec.hpp"

namespace anycastd::bgp::test {

inline Prefix P(const std::string& s) {
  return *Prefix::parse(s);
}
inline IpAddress A(const std::string& s) {
  return *IpAddress::parse(s);
}

// Wraps an UPDATE body in a header.
inline Bytes update_with_body(const Bytes& body) {
  Bytes m(16, std::byte{0xFF});
  ByteWriter w(m);
  w.u16(static_cast<uint16_t>(19 + body.size()));
  w.u8(2);
  w.bytes(body);
  return m;
}

// An UPDATE body: no withdrawals, the given raw attribute bytes, one IPv4 NLRI 198.18.0.0/24.
inline Bytes body_with_attrs(const Bytes& attrs, bool with_nlri = true) {
  Bytes b;
  ByteWriter w(b);
  w.u16(0);
  w.u16(static_cast<uint16_t>(attrs.size()));
  w.bytes(attrs);
  if (with_nlri) {
    w.u8(24);
    w.u8(198);
    w.u8(18);
    w.u8(0);
  }
  return b;
}

inline Bytes raw(std::initializer_list<int> bytes) {
  Bytes b;
  for (int x : bytes) b.push_back(std::byte(static_cast<uint8_t>(x)));
  return b;
}

// ORIGIN IGP, AS_PATH [65010] (4-octet), NEXT_HOP 198.18.0.1: the minimum valid set.
inline Bytes mandatory_attrs() {
  return raw({0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFD, 0xF2, 0x40, 3, 4, 198, 18, 0, 1});
}

inline Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace anycastd::bgp::test
