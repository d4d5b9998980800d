// UPDATE decoding with RFC 7606 revised error handling: each malformed attribute gets the
// RFC's action (treat-as-withdraw, attribute discard, or session reset), so one bad route
// does not take down a session carrying thousands of good ones.
#include <algorithm>
#include <set>

#include "wire/codec_internal.hpp"

namespace anycastd::bgp::detail {

namespace {

enum class Action { treat_as_withdraw, discard };

struct Ctx {
  const CodecOptions& opts;
  Update& u;
  std::optional<AsPath> as4_path;
  std::optional<Aggregator> as4_aggregator;
  std::optional<WireError> reset;  // set when the session must be reset

  void malformed(Action a, const std::string& what) {
    if (a == Action::treat_as_withdraw) {
      u.treat_as_withdraw = true;
      u.diagnostics.push_back(what + ": treat-as-withdraw");
    } else {
      u.diagnostics.push_back(what + ": attribute discarded");
    }
  }
};

bool flags_ok(uint8_t flags, bool optional, bool transitive) {
  return bool(flags & attr::kOptional) == optional && bool(flags & attr::kTransitive) == transitive;
}

std::optional<AsPath> parse_as_path(ByteReader v, size_t asn_size) {
  AsPath p;
  while (!v.empty()) {
    uint8_t type = 0, count = 0;
    if (!v.u8(type) || !v.u8(count)) return std::nullopt;
    if (type < kAsSet || type > kAsConfedSet || count == 0) return std::nullopt;
    AsSegment s{type, {}};
    s.asns.reserve(count);
    for (uint8_t i = 0; i < count; ++i) {
      uint32_t asn = 0;
      uint16_t a16 = 0;
      if (asn_size == 4 ? !v.u32(asn) : !v.u16(a16)) return std::nullopt;
      s.asns.push_back(asn_size == 4 ? asn : a16);
    }
    p.segments.push_back(std::move(s));
  }
  return p;
}

bool holds_as0(const AsPath& p) {
  return std::any_of(p.segments.begin(), p.segments.end(), [](const AsSegment& s) {
    return std::find(s.asns.begin(), s.asns.end(), 0u) != s.asns.end();
  });
}

std::optional<Aggregator> parse_aggregator(ByteReader v, size_t asn_size) {
  if (v.remaining() != asn_size + 4) return std::nullopt;
  Aggregator a;
  uint16_t a16 = 0;
  uint32_t addr = 0;
  if (asn_size == 4) {
    v.u32(a.asn);
  } else {
    v.u16(a16);
    a.asn = a16;
  }
  v.u32(addr);
  a.address = IpAddress::v4(addr);
  return a;
}

// RFC 4760 §3. Anything malformed here is a session reset (RFC 7606 §7.11): the NLRI
// cannot be located, so nothing can be withdrawn precisely.
bool parse_mp_reach(ByteReader v, Ctx& c) {
  MpReach m;
  uint8_t nh_len = 0, reserved = 0;
  if (!v.u16(m.afi_safi.afi) || !v.u8(m.afi_safi.safi) || !v.u8(nh_len)) return false;
  ByteReader nh;
  if (!v.sub(nh_len, nh) || !v.u8(reserved)) return false;
  if (m.afi_safi.safi != kSafiUnicast ||
      (m.afi_safi.afi != kAfiIpv4 && m.afi_safi.afi != kAfiIpv6)) {
    c.u.diagnostics.push_back("MP_REACH_NLRI for unsupported AFI/SAFI " +
                              std::to_string(m.afi_safi.afi) + "/" +
                              std::to_string(m.afi_safi.safi) + ": ignored");
    return true;
  }
  auto read_addr = [](ByteReader& r, size_t n) {
    std::array<uint8_t, 16> raw{};
    for (size_t i = 0; i < n; ++i) r.u8(raw[i]);
    return n == 4 ? IpAddress::v4((uint32_t{raw[0]} << 24) | (uint32_t{raw[1]} << 16) |
                                  (uint32_t{raw[2]} << 8) | raw[3])
                  : IpAddress::v6(raw);
  };
  if (m.afi_safi.afi == kAfiIpv6) {
    if (nh_len != 16 && nh_len != 32) return false;
    m.next_hop = read_addr(nh, 16);
    if (nh_len == 32) m.link_local = read_addr(nh, 16);
  } else {
    if (nh_len == 4) {
      m.next_hop = read_addr(nh, 4);
    } else if (nh_len == 16) {
      m.next_hop = read_addr(nh, 16);  // RFC 8950 IPv6 next hop for IPv4 NLRI
    } else {
      return false;
    }
  }
  Family fam = m.afi_safi.afi == kAfiIpv6 ? Family::v6 : Family::v4;
  if (!decode_prefixes(v, fam, m.nlri)) return false;
  c.u.mp_reach = std::move(m);
  return true;
}

bool parse_mp_unreach(ByteReader v, Ctx& c) {
  MpUnreach m;
  if (!v.u16(m.afi_safi.afi) || !v.u8(m.afi_safi.safi)) return false;
  if (m.afi_safi.safi != kSafiUnicast ||
      (m.afi_safi.afi != kAfiIpv4 && m.afi_safi.afi != kAfiIpv6)) {
    c.u.diagnostics.push_back("MP_UNREACH_NLRI for unsupported AFI/SAFI: ignored");
    return true;
  }
  if (!decode_prefixes(v, m.afi_safi.afi == kAfiIpv6 ? Family::v6 : Family::v4, m.withdrawn))
    return false;
  c.u.mp_unreach = std::move(m);
  return true;
}

void parse_attribute(uint8_t flags, uint8_t type, ByteReader v, Ctx& c) {
  auto& a = c.u.attrs;
  const size_t asn_size = c.opts.four_octet_as ? 4 : 2;
  switch (type) {
    case attr::kOrigin: {
      uint8_t o = 0;
      if (!flags_ok(flags, false, true) || v.remaining() != 1 || !v.u8(o) || o > kOriginIncomplete)
        return c.malformed(Action::treat_as_withdraw, "ORIGIN");
      a.origin = o;
      return;
    }
    case attr::kAsPath: {
      auto p = flags_ok(flags, false, true) ? parse_as_path(v, asn_size) : std::nullopt;
      if (!p) return c.malformed(Action::treat_as_withdraw, "AS_PATH");
      if (holds_as0(*p)) return c.malformed(Action::treat_as_withdraw, "AS_PATH with AS 0");
      a.as_path = std::move(p);
      return;
    }
    case attr::kNextHop: {
      uint32_t nh = 0;
      if (!flags_ok(flags, false, true) || v.remaining() != 4 || !v.u32(nh))
        return c.malformed(Action::treat_as_withdraw, "NEXT_HOP");
      a.next_hop = IpAddress::v4(nh);
      return;
    }
    case attr::kMed:
    case attr::kLocalPref: {
      bool med = type == attr::kMed;
      uint32_t x = 0;
      if (!flags_ok(flags, med, !med) || v.remaining() != 4 || !v.u32(x))
        return c.malformed(Action::treat_as_withdraw, med ? "MULTI_EXIT_DISC" : "LOCAL_PREF");
      // RFC 4271 §5.1.5, RFC 7606 §7.5: from an external peer it is discarded, the route kept.
      if (!med && c.opts.external_peer) {
        c.u.ignored_local_pref = true;
        return;
      }
      (med ? a.med : a.local_pref) = x;
      return;
    }
    case attr::kAtomicAggregate:
      if (!flags_ok(flags, false, true) || !v.empty())
        return c.malformed(Action::discard, "ATOMIC_AGGREGATE");
      a.atomic_aggregate = true;
      return;
    case attr::kAggregator: {
      auto g = flags_ok(flags, true, true) ? parse_aggregator(v, asn_size) : std::nullopt;
      // RFC 7607 §2 forbids AS 0 here too but names no action: discard is the mildest.
      if (g && g->asn == 0) return c.malformed(Action::discard, "AGGREGATOR with AS 0");
      if (!g) return c.malformed(Action::discard, "AGGREGATOR");
      a.aggregator = g;
      return;
    }
    case attr::kCommunities: {
      if (!flags_ok(flags, true, true) || v.empty() || v.remaining() % 4 != 0)
        return c.malformed(Action::treat_as_withdraw, "COMMUNITIES");
      while (!v.empty()) {
        uint32_t x = 0;
        v.u32(x);
        a.communities.push_back(x);
      }
      return;
    }
    // RFC 7606 §7.9, §7.10: a bad length is treat-as-withdraw.
    case attr::kOriginatorId: {
      uint32_t id = 0;
      if (!flags_ok(flags, true, false) || v.remaining() != 4 || !v.u32(id))
        return c.malformed(Action::treat_as_withdraw, "ORIGINATOR_ID");
      a.originator_id = id;
      return;
    }
    case attr::kClusterList: {
      if (!flags_ok(flags, true, false) || v.empty() || v.remaining() % 4 != 0)
        return c.malformed(Action::treat_as_withdraw, "CLUSTER_LIST");
      while (!v.empty()) {
        uint32_t id = 0;
        v.u32(id);
        a.cluster_list.push_back(id);
      }
      return;
    }
    case attr::kLargeCommunities: {
      if (!flags_ok(flags, true, true) || v.empty() || v.remaining() % 12 != 0)
        return c.malformed(Action::treat_as_withdraw, "LARGE_COMMUNITY");
      while (!v.empty()) {
        LargeCommunity lc;
        v.u32(lc.global);
        v.u32(lc.local1);
        v.u32(lc.local2);
        a.large_communities.push_back(lc);
      }
      return;
    }
    case attr::kMpReach:
    case attr::kMpUnreach: {
      bool ok = flags_ok(flags, true, false) &&
                (type == attr::kMpReach ? parse_mp_reach(v, c) : parse_mp_unreach(v, c));
      if (!ok)
        c.reset =
            error(err::kUpdate, err::kOptionalAttribute,
                  type == attr::kMpReach ? "malformed MP_REACH_NLRI" : "malformed MP_UNREACH_NLRI");
      return;
    }
    case attr::kAs4Path: {
      // RFC 6793 §6: a malformed AS4_PATH is discarded; from a 4-octet peer it is ignored.
      if (c.opts.four_octet_as) return;
      auto p = flags_ok(flags, true, true) ? parse_as_path(v, 4) : std::nullopt;
      // Confederation segments have no place in AS4_PATH (RFC 6793 §6).
      if (p && std::any_of(p->segments.begin(), p->segments.end(), [](const AsSegment& s) {
            return s.type == kAsConfedSequence || s.type == kAsConfedSet;
          }))
        p.reset();
      if (!p) return c.malformed(Action::discard, "AS4_PATH");
      // RFC 7607 §2: AS 0 in AS4_PATH makes the UPDATE malformed, as in AS_PATH.
      if (holds_as0(*p)) return c.malformed(Action::treat_as_withdraw, "AS4_PATH with AS 0");
      c.as4_path = std::move(p);
      return;
    }
    case attr::kAs4Aggregator: {
      if (c.opts.four_octet_as) return;
      auto g = flags_ok(flags, true, true) ? parse_aggregator(v, 4) : std::nullopt;
      if (g && g->asn == 0) return c.malformed(Action::discard, "AS4_AGGREGATOR with AS 0");
      if (!g) return c.malformed(Action::discard, "AS4_AGGREGATOR");
      c.as4_aggregator = g;
      return;
    }
    default: {
      if (!(flags & attr::kOptional)) {
        Bytes data{std::byte{flags}, std::byte{type}};
        c.reset = error(err::kUpdate, err::kUnrecognizedWellKnown,
                        "unrecognized well-known attribute " + std::to_string(type), data);
        return;
      }
      if (!(flags & attr::kTransitive)) return;  // optional non-transitive: quietly dropped
      auto rest = v.rest();
      a.unknown.push_back({static_cast<uint8_t>((flags | attr::kPartial) & ~attr::kExtendedLength),
                           type, Bytes(rest.begin(), rest.end())});
      return;
    }
  }
}

// RFC 6793 §4.2.3: rebuild the true path from AS_PATH (with AS_TRANS) and AS4_PATH.
void merge_as4(Ctx& c) {
  auto& a = c.u.attrs;
  if (a.aggregator && a.aggregator->asn != kAsTrans) {
    return;  // the aggregator was a 2-octet-only speaker: AS4_* are stale, ignore them
  }
  if (c.as4_aggregator) a.aggregator = c.as4_aggregator;
  if (!c.as4_path || !a.as_path) return;
  size_t n2 = a.as_path->length(), n4 = c.as4_path->length();
  if (n2 < n4) return;
  AsPath merged;
  size_t keep = n2 - n4;
  for (const auto& s : a.as_path->segments) {
    if (keep == 0) break;
    if (s.type == kAsSet) {
      merged.segments.push_back(s);
      --keep;
    } else if (s.type == kAsSequence) {
      size_t take = std::min(keep, s.asns.size());
      merged.segments.push_back({s.type, {s.asns.begin(), s.asns.begin() + take}});
      keep -= take;
    } else {
      merged.segments.push_back(s);
    }
  }
  // Segments are appended as they are, not joined: joining changes the bytes a re-encode
  // produces, so the same UPDATE would not decode to the same path twice (fuzz_decode).
  for (const auto& s : c.as4_path->segments) merged.segments.push_back(s);
  a.as_path = std::move(merged);
}

}  // namespace

Result<Update, WireError> decode_update(ByteReader body, const CodecOptions& opts) {
  Update u;
  uint16_t wlen = 0, alen = 0;
  ByteReader wr, ar;
  if (!body.u16(wlen) || !body.sub(wlen, wr) || !body.u16(alen) || !body.sub(alen, ar))
    return Err(error(err::kUpdate, err::kMalformedAttributeList,
                     "withdrawn or attribute length exceeds the message"));
  if (!decode_prefixes(wr, Family::v4, u.withdrawn))
    return Err(error(err::kUpdate, err::kInvalidNetworkField, "malformed withdrawn routes"));
  if (!decode_prefixes(body, Family::v4, u.nlri))
    return Err(error(err::kUpdate, err::kInvalidNetworkField, "malformed NLRI"));

  Ctx c{opts, u, {}, {}, {}};
  std::set<uint8_t> seen;
  while (!ar.empty() && !c.reset) {
    uint8_t flags = 0, type = 0;
    uint16_t len = 0;
    uint8_t len8 = 0;
    bool hdr =
        ar.u8(flags) && ar.u8(type) &&
        ((flags & attr::kExtendedLength) ? ar.u16(len) : (ar.u8(len8) && (len = len8, true)));
    ByteReader v;
    if (!hdr || !ar.sub(len, v)) {
      // RFC 7606 §4: the attribute list overruns its length, but the NLRI field is still
      // where the lengths say it is, so the routes can be withdrawn.
      c.malformed(Action::treat_as_withdraw, "attribute list overruns its length");
      break;
    }
    if (!seen.insert(type).second) {
      if (type == attr::kMpReach || type == attr::kMpUnreach) {
        c.reset = error(err::kUpdate, err::kMalformedAttributeList, "repeated MP_(UN)REACH_NLRI");
        break;
      }
      u.diagnostics.push_back("repeated attribute " + std::to_string(type) + ": discarded");
      continue;
    }
    parse_attribute(flags, type, v, c);
  }
  if (c.reset) return Err(*c.reset);
  if (!opts.four_octet_as) merge_as4(c);

  // RFC 7606 §3(d): a missing well-known mandatory attribute withdraws the routes.
  bool announces = !u.nlri.empty() || (u.mp_reach && !u.mp_reach->nlri.empty());
  if (announces && !u.treat_as_withdraw) {
    if (!u.attrs.origin) c.malformed(Action::treat_as_withdraw, "missing ORIGIN");
    if (!u.attrs.as_path) c.malformed(Action::treat_as_withdraw, "missing AS_PATH");
    if (!u.nlri.empty() && !u.attrs.next_hop)
      c.malformed(Action::treat_as_withdraw, "missing NEXT_HOP");
  }
  return u;
}

}  // namespace anycastd::bgp::detail
