// NLRI prefix encoding (RFC 4271 §4.3, RFC 4760 §5).
#include "wire/codec_internal.hpp"

namespace anycastd::bgp {

size_t encoded_prefix_size(const Prefix& p) {
  return 1 + (p.length() + 7) / 8;
}

void encode_prefix(ByteWriter& w, const Prefix& p) {
  w.u8(p.length());
  const auto& raw = p.address().raw();
  for (size_t i = 0; i < static_cast<size_t>((p.length() + 7) / 8); ++i) w.u8(raw[i]);
}

namespace detail {

bool decode_prefixes(ByteReader r, Family family, std::vector<Prefix>& out) {
  const unsigned max_bits = family == Family::v4 ? 32 : 128;
  while (!r.empty()) {
    uint8_t len = 0;
    r.u8(len);
    if (len > max_bits) return false;
    ByteView bits;
    if (!r.view((len + 7u) / 8u, bits)) return false;
    std::array<uint8_t, 16> raw{};
    for (size_t i = 0; i < bits.size(); ++i) raw[i] = static_cast<uint8_t>(bits[i]);
    IpAddress addr = family == Family::v4
                         ? IpAddress::v4((uint32_t{raw[0]} << 24) | (uint32_t{raw[1]} << 16) |
                                         (uint32_t{raw[2]} << 8) | raw[3])
                         : IpAddress::v6(raw);
    out.emplace_back(addr, len);
  }
  return true;
}

}  // namespace detail
}  // namespace anycastd::bgp
