#include "wire/codec.hpp"

#include "wire/codec_internal.hpp"

namespace anycastd::bgp {

using detail::error;

namespace {

size_t min_length(uint8_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::open:
      return 29;
    case MessageType::update:
      return 23;
    case MessageType::notification:
      return 21;
    case MessageType::keepalive:
      return 19;
    case MessageType::route_refresh:
      return 23;
  }
  return 0;
}

Bytes u16_data(uint16_t v) {
  Bytes d;
  ByteWriter(d).u16(v);
  return d;
}

}  // namespace

Result<std::optional<size_t>, WireError> frame_length(ByteView buffered, const CodecOptions& opts) {
  if (buffered.size() < kHeaderSize) return std::optional<size_t>{};
  for (size_t i = 0; i < 16; ++i) {
    if (buffered[i] != std::byte{0xFF})
      return Err(error(err::kHeader, err::kConnectionNotSynchronized, "marker is not all ones"));
  }
  ByteReader r(buffered.subspan(16));
  uint16_t length = 0;
  uint8_t type = 0;
  r.u16(length);
  r.u8(type);
  size_t min = min_length(type);
  if (min == 0)
    return Err(error(err::kHeader, err::kBadMessageType,
                     "unknown message type " + std::to_string(type), Bytes{std::byte{type}}));
  // RFC 8654: OPEN and KEEPALIVE stay within 4096 even when extended messages are agreed.
  size_t max = (type == 1 || type == 4) ? kMaxMessage : opts.max_message();
  bool exact = type == 4 || type == 5;
  if (length < min || length > max || (exact && length != min)) {
    return Err(
        error(err::kHeader, err::kBadMessageLength,
              "bad length " + std::to_string(length) + " for message type " + std::to_string(type),
              u16_data(length)));
  }
  return std::optional<size_t>{length};
}

Result<Message, WireError> decode(ByteView message, const CodecOptions& opts) {
  auto len = frame_length(message, opts);
  if (!len) return Err(len.error());
  if (!*len || **len != message.size())
    return Err(error(err::kHeader, err::kBadMessageLength, "message length does not match buffer",
                     u16_data(static_cast<uint16_t>(message.size()))));
  auto type = static_cast<MessageType>(message[18]);
  ByteReader body(message.subspan(kHeaderSize));
  switch (type) {
    case MessageType::open: {
      auto o = detail::decode_open(body);
      if (!o) return Err(o.error());
      return Message{std::move(o).value()};
    }
    case MessageType::update: {
      auto u = detail::decode_update(body, opts);
      if (!u) return Err(u.error());
      return Message{std::move(u).value()};
    }
    case MessageType::notification: {
      Notification n;
      body.u8(n.code);
      body.u8(n.subcode);
      auto rest = body.rest();
      n.data.assign(rest.begin(), rest.end());
      return Message{std::move(n)};
    }
    case MessageType::keepalive:
      return Message{Keepalive{}};
    case MessageType::route_refresh: {
      RouteRefresh rr;
      body.u16(rr.afi_safi.afi);
      body.u8(rr.subtype);
      body.u8(rr.afi_safi.safi);
      return Message{rr};
    }
  }
  return Err(error(err::kHeader, err::kBadMessageType, "unknown message type"));
}

Bytes encode(const Message& message, const CodecOptions& opts) {
  Bytes out;
  out.reserve(64);
  ByteWriter w(out);
  for (int i = 0; i < 16; ++i) w.u8(0xFF);
  w.u16(0);  // length, patched below
  w.u8(static_cast<uint8_t>(message.index() + 1));
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Open>) {
          detail::encode_open(w, m);
        } else if constexpr (std::is_same_v<T, Update>) {
          detail::encode_update(w, m, opts);
        } else if constexpr (std::is_same_v<T, Notification>) {
          w.u8(m.code);
          w.u8(m.subcode);
          w.bytes(m.data);
        } else if constexpr (std::is_same_v<T, RouteRefresh>) {
          w.u16(m.afi_safi.afi);
          w.u8(m.subtype);
          w.u8(m.afi_safi.safi);
        }
      },
      message);
  w.patch_u16(16, static_cast<uint16_t>(out.size()));
  return out;
}

}  // namespace anycastd::bgp
