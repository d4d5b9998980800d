#pragma once
// Pieces shared by the codec's translation units; not part of the public API.
#include "wire/codec.hpp"

namespace anycastd::bgp::detail {

inline WireError error(uint8_t code, uint8_t subcode, std::string reason, Bytes data = {}) {
  return WireError{code, subcode, std::move(data), std::move(reason)};
}

Result<Open, WireError> decode_open(ByteReader body);
void encode_open(ByteWriter& w, const Open& open);
Result<Update, WireError> decode_update(ByteReader body, const CodecOptions& opts);
void encode_update(ByteWriter& w, const Update& u, const CodecOptions& opts);

// One path attribute: flags (extended length when the value needs it), type, length, value.
void put_attr(ByteWriter& w, uint8_t flags, uint8_t type, const Bytes& value);
Bytes mp_reach_value(const MpReach& mp);

// Reads NLRI until the reader is empty. False means a malformed prefix (length beyond the
// family's width, or truncated), which RFC 7606 §5.3 answers with a session reset.
bool decode_prefixes(ByteReader r, Family family, std::vector<Prefix>& out);

}  // namespace anycastd::bgp::detail
