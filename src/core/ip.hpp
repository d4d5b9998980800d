#pragma once
// IPv4/IPv6 addresses and prefixes as plain values, with parsing and formatting.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anycastd {

enum class Family : uint8_t { v4 = 4, v6 = 6 };

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(uint32_t host_order) {
    IpAddress a;
    a.family_ = Family::v4;
    a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes_[3] = static_cast<uint8_t>(host_order);
    return a;
  }
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::v4; }
  bool is_v6() const { return family_ == Family::v6; }
  bool is_unspecified() const;
  uint32_t v4_value() const {  // host order; only for v4
    return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
           bytes_[3];
  }
  const std::array<uint8_t, 16>& raw() const { return bytes_; }
  size_t byte_size() const { return is_v4() ? 4 : 16; }
  std::string to_string() const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::v4;
  std::array<uint8_t, 16> bytes_{};  // v4 uses the first four
};

class Prefix {
 public:
  Prefix() = default;
  // Host bits past length are cleared, so equal networks compare equal.
  Prefix(IpAddress addr, uint8_t length);
  static std::optional<Prefix> parse(std::string_view text);

  const IpAddress& address() const { return addr_; }
  uint8_t length() const { return length_; }
  Family family() const { return addr_.family(); }
  std::string to_string() const;
  auto operator<=>(const Prefix&) const = default;

 private:
  IpAddress addr_;
  uint8_t length_ = 0;
};

}  // namespace anycastd
