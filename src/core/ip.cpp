#include "core/ip.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace anycastd {

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::v6;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = Family::v4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = Family::v6;
    return a;
  }
  return std::nullopt;
}

bool IpAddress::is_unspecified() const {
  for (size_t i = 0; i < byte_size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

Prefix::Prefix(IpAddress addr, uint8_t length) : addr_(addr), length_(length) {
  if (addr.is_v4()) {  // the common case, in integer arithmetic
    if (length_ > 32) length_ = 32;
    uint32_t mask = length_ == 0 ? 0 : ~uint32_t{0} << (32 - length_);
    addr_ = IpAddress::v4(addr.v4_value() & mask);
    return;
  }
  auto raw = addr.raw();
  size_t bits = addr.byte_size() * 8;
  if (length_ > bits) length_ = static_cast<uint8_t>(bits);
  for (size_t i = 0; i < 16; ++i) {
    size_t first_bit = i * 8;
    if (first_bit >= length_) {
      raw[i] = 0;
    } else if (first_bit + 8 > length_) {
      raw[i] &= static_cast<uint8_t>(0xFF << (8 - (length_ - first_bit)));
    }
  }
  addr_ = addr.is_v4() ? IpAddress::v4((uint32_t{raw[0]} << 24) | (uint32_t{raw[1]} << 16) |
                                       (uint32_t{raw[2]} << 8) | raw[3])
                       : IpAddress::v6(raw);
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned len = static_cast<unsigned>(addr->byte_size() * 8);
  if (slash != std::string_view::npos) {
    auto num = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), len);
    if (ec != std::errc{} || p != num.data() + num.size() || num.empty()) return std::nullopt;
    if (len > addr->byte_size() * 8) return std::nullopt;
  }
  Prefix pfx(*addr, static_cast<uint8_t>(len));
  // "10.0.0.1/24" is a typo for a host or a network; refuse rather than guess.
  if (pfx.address() != *addr) return std::nullopt;
  return pfx;
}

std::string Prefix::to_string() const {
  return addr_.to_string() + "/" + std::to_string(length_);
}

}  // namespace anycastd
