#pragma once
// Pure BGP message codec: bytes in, Message or WireError out, and back.
#include <optional>
#include <string>

#include "core/result.hpp"
#include "wire/message.hpp"

namespace anycastd::bgp {

// What the session negotiated; decoding and encoding depend on it.
struct CodecOptions {
  bool four_octet_as = true;      // both sides sent the 4-octet AS capability
  bool extended_message = false;  // both sides sent the extended message capability
  // An eBGP session (not iBGP, not a confederation peer): LOCAL_PREF from it is ignored
  // (RFC 4271 §5.1.5), so no neighbour in another AS can steer our best path.
  bool external_peer = false;
  size_t max_message() const { return extended_message ? kMaxExtendedMessage : kMaxMessage; }
};

// An error that ends the session: the NOTIFICATION to send and why, for the log.
struct WireError {
  uint8_t code = 0;
  uint8_t subcode = 0;
  Bytes data;
  std::string reason;
  Notification notification() const { return {code, subcode, data}; }
};

// How long the message at the front of a stream buffer is, once its header has arrived:
// nullopt while fewer than 19 bytes are buffered; an error when the header is bad.
Result<std::optional<size_t>, WireError> frame_length(ByteView buffered, const CodecOptions& opts);

// Decodes one whole message (header included). UPDATE attribute errors that RFC 7606
// handles without a reset come back inside the Update (treat_as_withdraw, diagnostics).
Result<Message, WireError> decode(ByteView message, const CodecOptions& opts);

// Encodes one message. The caller keeps UPDATEs within opts.max_message(); use the
// packer for lists of prefixes.
Bytes encode(const Message& message, const CodecOptions& opts);

// Attribute block alone, as it appears inside an UPDATE (used by the packer to size).
Bytes encode_attributes(const PathAttributes& attrs, const std::optional<MpReach>& mp_reach,
                        const std::optional<MpUnreach>& mp_unreach, const CodecOptions& opts);

// Prefix encoding used in NLRI fields: length octet then the minimum number of octets.
void encode_prefix(ByteWriter& w, const Prefix& p);
size_t encoded_prefix_size(const Prefix& p);

}  // namespace anycastd::bgp
