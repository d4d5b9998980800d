// OPEN message and its capabilities (RFC 4271 §4.2, RFC 5492).
#include "wire/codec_internal.hpp"

namespace anycastd::bgp::detail {

namespace {

constexpr uint8_t kParamCapabilities = 2;

// A malformed capability is an OPEN error; an unknown one is kept so it can be logged.
bool decode_capability(uint8_t code, ByteReader v, Capabilities& caps) {
  switch (code) {
    case cap::kMultiprotocol: {
      AfiSafi f;
      uint8_t reserved = 0;
      if (v.remaining() != 4 || !v.u16(f.afi) || !v.u8(reserved) || !v.u8(f.safi)) return false;
      caps.multiprotocol.push_back(f);
      return true;
    }
    case cap::kRouteRefresh:
      caps.route_refresh = true;
      return v.empty();
    case cap::kEnhancedRouteRefresh:
      caps.enhanced_route_refresh = true;
      return v.empty();
    case cap::kExtendedMessage:
      caps.extended_message = true;
      return v.empty();
    case cap::kFourOctetAs: {
      uint32_t asn = 0;
      if (v.remaining() != 4 || !v.u32(asn)) return false;
      caps.four_octet_as = asn;
      return true;
    }
    case cap::kGracefulRestart: {
      GracefulRestart gr;
      uint16_t flags_time = 0;
      if (!v.u16(flags_time) || v.remaining() % 4 != 0) return false;
      gr.restarting = flags_time & 0x8000;
      gr.time = flags_time & 0x0FFF;
      while (!v.empty()) {
        GracefulRestart::Family f;
        uint8_t flags = 0;
        v.u16(f.afi_safi.afi);
        v.u8(f.afi_safi.safi);
        v.u8(flags);
        f.forwarding_preserved = flags & 0x80;
        gr.families.push_back(f);
      }
      caps.graceful_restart = gr;
      return true;
    }
    default: {
      auto rest = v.rest();
      caps.unknown.push_back({code, Bytes(rest.begin(), rest.end())});
      return true;
    }
  }
}

void put_cap(ByteWriter& w, uint8_t code, const Bytes& value) {
  w.u8(kParamCapabilities);
  w.u8(static_cast<uint8_t>(value.size() + 2));
  w.u8(code);
  w.u8(static_cast<uint8_t>(value.size()));
  w.bytes(value);
}

}  // namespace

Result<Open, WireError> decode_open(ByteReader body) {
  Open o;
  uint8_t opt_len = 0;
  if (!body.u8(o.version) || !body.u16(o.my_as) || !body.u16(o.hold_time) || !body.u32(o.bgp_id) ||
      !body.u8(opt_len))
    return Err(error(err::kHeader, err::kBadMessageLength, "OPEN too short"));
  if (o.version != 4) {
    Bytes v;
    ByteWriter(v).u16(4);
    return Err(error(err::kOpen, err::kUnsupportedVersion,
                     "unsupported BGP version " + std::to_string(o.version), v));
  }
  ByteReader params;
  if (!body.sub(opt_len, params) || !body.empty())
    return Err(error(err::kOpen, 0, "optional parameters length does not match message"));
  while (!params.empty()) {
    uint8_t type = 0, len = 0;
    ByteReader value;
    if (!params.u8(type) || !params.u8(len) || !params.sub(len, value))
      return Err(error(err::kOpen, 0, "truncated optional parameter"));
    if (type != kParamCapabilities)
      return Err(error(err::kOpen, err::kUnsupportedOptionalParameter,
                       "unsupported optional parameter " + std::to_string(type)));
    while (!value.empty()) {
      uint8_t code = 0, clen = 0;
      ByteReader cv;
      if (!value.u8(code) || !value.u8(clen) || !value.sub(clen, cv))
        return Err(error(err::kOpen, 0, "truncated capability"));
      if (!decode_capability(code, cv, o.caps))
        return Err(error(err::kOpen, 0, "malformed capability " + std::to_string(code)));
    }
  }
  return o;
}

void encode_open(ByteWriter& w, const Open& o) {
  w.u8(o.version);
  w.u16(o.my_as);
  w.u16(o.hold_time);
  w.u32(o.bgp_id);
  size_t len_at = w.size();
  w.u8(0);
  size_t start = w.size();
  for (const auto& f : o.caps.multiprotocol) {
    Bytes v;
    ByteWriter vw(v);
    vw.u16(f.afi);
    vw.u8(0);
    vw.u8(f.safi);
    put_cap(w, cap::kMultiprotocol, v);
  }
  if (o.caps.route_refresh) put_cap(w, cap::kRouteRefresh, {});
  if (o.caps.enhanced_route_refresh) put_cap(w, cap::kEnhancedRouteRefresh, {});
  if (o.caps.extended_message) put_cap(w, cap::kExtendedMessage, {});
  if (o.caps.four_octet_as) {
    Bytes v;
    ByteWriter(v).u32(*o.caps.four_octet_as);
    put_cap(w, cap::kFourOctetAs, v);
  }
  if (o.caps.graceful_restart) {
    Bytes v;
    ByteWriter vw(v);
    const auto& gr = *o.caps.graceful_restart;
    vw.u16(static_cast<uint16_t>((gr.restarting ? 0x8000 : 0) | (gr.time & 0x0FFF)));
    for (const auto& f : gr.families) {
      vw.u16(f.afi_safi.afi);
      vw.u8(f.afi_safi.safi);
      vw.u8(f.forwarding_preserved ? 0x80 : 0);
    }
    put_cap(w, cap::kGracefulRestart, v);
  }
  for (const auto& c : o.caps.unknown) put_cap(w, c.code, c.value);
  w.patch_u8(len_at, static_cast<uint8_t>(w.size() - start));
}

}  // namespace anycastd::bgp::detail
