// UPDATE and path attribute encoding. Attributes go out in type-code order; a path with
// 4-octet ASNs toward a 2-octet-only peer is sent as AS_TRANS plus AS4_PATH (RFC 6793).
#include "wire/codec_internal.hpp"

namespace anycastd::bgp {

namespace detail {

void put_attr(ByteWriter& w, uint8_t flags, uint8_t type, const Bytes& value) {
  flags &= static_cast<uint8_t>(~attr::kExtendedLength);
  if (value.size() > 255) flags |= attr::kExtendedLength;
  w.u8(flags);
  w.u8(type);
  if (flags & attr::kExtendedLength) {
    w.u16(static_cast<uint16_t>(value.size()));
  } else {
    w.u8(static_cast<uint8_t>(value.size()));
  }
  w.bytes(value);
}

Bytes mp_reach_value(const MpReach& mp) {
  Bytes v;
  ByteWriter vw(v);
  vw.u16(mp.afi_safi.afi);
  vw.u8(mp.afi_safi.safi);
  const auto& nh = mp.next_hop;
  size_t nh_len = nh.byte_size() + (mp.link_local ? 16 : 0);
  vw.u8(static_cast<uint8_t>(nh_len));
  for (size_t i = 0; i < nh.byte_size(); ++i) vw.u8(nh.raw()[i]);
  if (mp.link_local)
    for (auto b : mp.link_local->raw()) vw.u8(b);
  vw.u8(0);
  for (const auto& p : mp.nlri) encode_prefix(vw, p);
  return v;
}

}  // namespace detail

namespace {

using detail::put_attr;

bool needs_as4(const PathAttributes& a) {
  if (a.as_path)
    for (const auto& s : a.as_path->segments)
      for (auto asn : s.asns)
        if (asn > 0xFFFF) return true;
  return a.aggregator && a.aggregator->asn > 0xFFFF;
}

Bytes as_path_value(const AsPath& p, bool four, bool drop_confed) {
  Bytes v;
  ByteWriter w(v);
  for (const auto& s : p.segments) {
    if (drop_confed && (s.type == kAsConfedSequence || s.type == kAsConfedSet)) continue;
    w.u8(s.type);
    w.u8(static_cast<uint8_t>(s.asns.size()));
    for (auto asn : s.asns) {
      if (four) {
        w.u32(asn);
      } else {
        w.u16(asn > 0xFFFF ? kAsTrans : static_cast<uint16_t>(asn));
      }
    }
  }
  return v;
}

Bytes aggregator_value(const Aggregator& g, bool four) {
  Bytes v;
  ByteWriter w(v);
  if (four) {
    w.u32(g.asn);
  } else {
    w.u16(g.asn > 0xFFFF ? kAsTrans : static_cast<uint16_t>(g.asn));
  }
  w.u32(g.address.v4_value());
  return v;
}

constexpr uint8_t kWellKnown = attr::kTransitive;
constexpr uint8_t kOptTrans = attr::kOptional | attr::kTransitive;

}  // namespace

Bytes encode_attributes(const PathAttributes& a, const std::optional<MpReach>& mp_reach,
                        const std::optional<MpUnreach>& mp_unreach, const CodecOptions& opts) {
  Bytes out;
  ByteWriter w(out);
  const bool four = opts.four_octet_as;
  const bool as4 = !four && needs_as4(a);
  if (a.origin) put_attr(w, kWellKnown, attr::kOrigin, {std::byte{*a.origin}});
  if (a.as_path) put_attr(w, kWellKnown, attr::kAsPath, as_path_value(*a.as_path, four, false));
  if (a.next_hop) {
    Bytes v;
    ByteWriter(v).u32(a.next_hop->v4_value());
    put_attr(w, kWellKnown, attr::kNextHop, v);
  }
  if (a.med) {
    Bytes v;
    ByteWriter(v).u32(*a.med);
    put_attr(w, attr::kOptional, attr::kMed, v);
  }
  if (a.local_pref) {
    Bytes v;
    ByteWriter(v).u32(*a.local_pref);
    put_attr(w, kWellKnown, attr::kLocalPref, v);
  }
  if (a.atomic_aggregate) put_attr(w, kWellKnown, attr::kAtomicAggregate, {});
  if (a.aggregator)
    put_attr(w, kOptTrans, attr::kAggregator, aggregator_value(*a.aggregator, four));
  if (!a.communities.empty()) {
    Bytes v;
    ByteWriter vw(v);
    for (auto c : a.communities) vw.u32(c);
    put_attr(w, kOptTrans, attr::kCommunities, v);
  }
  if (a.originator_id) {
    Bytes v;
    ByteWriter(v).u32(*a.originator_id);
    put_attr(w, attr::kOptional, attr::kOriginatorId, v);
  }
  if (!a.cluster_list.empty()) {
    Bytes v;
    ByteWriter vw(v);
    for (auto id : a.cluster_list) vw.u32(id);
    put_attr(w, attr::kOptional, attr::kClusterList, v);
  }
  if (mp_reach) put_attr(w, attr::kOptional, attr::kMpReach, detail::mp_reach_value(*mp_reach));
  if (mp_unreach) {
    Bytes v;
    ByteWriter vw(v);
    vw.u16(mp_unreach->afi_safi.afi);
    vw.u8(mp_unreach->afi_safi.safi);
    for (const auto& p : mp_unreach->withdrawn) encode_prefix(vw, p);
    put_attr(w, attr::kOptional, attr::kMpUnreach, v);
  }
  if (as4 && a.as_path)
    put_attr(w, kOptTrans, attr::kAs4Path, as_path_value(*a.as_path, true, true));
  if (as4 && a.aggregator && a.aggregator->asn > 0xFFFF)
    put_attr(w, kOptTrans, attr::kAs4Aggregator, aggregator_value(*a.aggregator, true));
  if (!a.large_communities.empty()) {
    Bytes v;
    ByteWriter vw(v);
    for (const auto& c : a.large_communities) {
      vw.u32(c.global);
      vw.u32(c.local1);
      vw.u32(c.local2);
    }
    put_attr(w, kOptTrans, attr::kLargeCommunities, v);
  }
  for (const auto& u : a.unknown) put_attr(w, u.flags, u.type, u.value);
  return out;
}

namespace detail {

void encode_update(ByteWriter& w, const Update& u, const CodecOptions& opts) {
  Bytes wd;
  ByteWriter ww(wd);
  for (const auto& p : u.withdrawn) encode_prefix(ww, p);
  w.u16(static_cast<uint16_t>(wd.size()));
  w.bytes(wd);
  Bytes attrs = encode_attributes(u.attrs, u.mp_reach, u.mp_unreach, opts);
  w.u16(static_cast<uint16_t>(attrs.size()));
  w.bytes(attrs);
  for (const auto& p : u.nlri) encode_prefix(w, p);
}

}  // namespace detail
}  // namespace anycastd::bgp
