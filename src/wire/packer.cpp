#include "wire/packer.hpp"

#include <span>

#include "wire/codec_internal.hpp"

namespace anycastd::bgp {

namespace {

constexpr size_t kUpdateFixed = kHeaderSize + 2 + 2;  // header, withdrawn len, attr len
constexpr size_t kMpAttrHeader = 4;                   // flags, type, extended length
constexpr uint8_t kTypeUpdate = 2;

// Splits prefixes into runs whose encoded size fits `room` bytes each.
template <typename Emit>
void chunk(const std::vector<Prefix>& prefixes, size_t room, Emit emit) {
  std::vector<Prefix> run;
  size_t used = 0;
  for (const auto& p : prefixes) {
    size_t sz = encoded_prefix_size(p);
    if (used + sz > room && !run.empty()) {
      emit(run);
      run.clear();
      used = 0;
    }
    run.push_back(p);
    used += sz;
  }
  if (!run.empty()) emit(run);
}

// Where an attribute of type `type` goes among encoded attributes kept in type order.
size_t insertion_point(const Bytes& attrs, uint8_t type) {
  size_t at = 0;
  while (at + 3 <= attrs.size()) {
    auto flags = static_cast<uint8_t>(attrs[at]);
    if (static_cast<uint8_t>(attrs[at + 1]) > type) break;
    bool ext = flags & attr::kExtendedLength;
    size_t len =
        ext ? (static_cast<size_t>(attrs[at + 2]) << 8 | static_cast<size_t>(attrs[at + 3]))
            : static_cast<size_t>(attrs[at + 2]);
    at += (ext ? 4 : 3) + len;
  }
  return at;
}

// One UPDATE: no withdrawals, the attribute bytes in these pieces, then classic NLRI.
Bytes update(std::initializer_list<std::span<const std::byte>> attrs,
             const std::vector<Prefix>& nlri) {
  Bytes out;
  ByteWriter w(out);
  for (int i = 0; i < 16; ++i) w.u8(0xFF);
  w.u16(0);  // length, patched below
  w.u8(kTypeUpdate);
  w.u16(0);
  size_t len = 0;
  for (auto piece : attrs) len += piece.size();
  w.u16(static_cast<uint16_t>(len));
  for (auto piece : attrs) out.insert(out.end(), piece.begin(), piece.end());
  for (const auto& p : nlri) encode_prefix(w, p);
  w.patch_u16(16, static_cast<uint16_t>(out.size()));
  return out;
}

std::string too_big(size_t attrs, size_t max) {
  return "its path attributes take " + std::to_string(attrs) +
         " bytes, leaving no room for a prefix in a " + std::to_string(max) + "-byte UPDATE";
}

}  // namespace

Result<std::vector<Bytes>, std::string> pack_announce(const PathAttributes& attrs,
                                                      const IpAddress& next_hop,
                                                      const std::vector<Prefix>& prefixes,
                                                      const CodecOptions& opts) {
  std::vector<Bytes> out;
  if (prefixes.empty()) return out;
  const size_t max = opts.max_message();
  const bool v4 = prefixes.front().family() == Family::v4;
  const size_t widest = v4 ? 5 : 17;  // a /32 or /128 and its length octet
  if (v4) {
    PathAttributes a = attrs;
    a.next_hop = next_hop;
    const Bytes common = encode_attributes(a, {}, {}, opts);
    if (kUpdateFixed + common.size() + widest > max) return Err(too_big(common.size(), max));
    chunk(prefixes, max - kUpdateFixed - common.size(),
          [&](const std::vector<Prefix>& run) { out.push_back(update({common}, run)); });
    return out;
  }
  PathAttributes a = attrs;
  a.next_hop.reset();
  const Bytes common = encode_attributes(a, {}, {}, opts);
  const size_t mp_fixed = kMpAttrHeader + 2 + 1 + 1 + next_hop.byte_size() + 1;
  if (kUpdateFixed + common.size() + mp_fixed + widest > max)
    return Err(too_big(common.size() + mp_fixed, max));
  // MP_REACH_NLRI carries the prefixes, so only it is encoded per message.
  const size_t split = insertion_point(common, attr::kMpReach);
  chunk(
      prefixes, max - kUpdateFixed - common.size() - mp_fixed, [&](const std::vector<Prefix>& run) {
        Bytes mp;
        ByteWriter w(mp);
        detail::put_attr(
            w, attr::kOptional, attr::kMpReach,
            detail::mp_reach_value(MpReach{{kAfiIpv6, kSafiUnicast}, next_hop, std::nullopt, run}));
        std::span<const std::byte> all(common);
        out.push_back(update({all.first(split), mp, all.subspan(split)}, {}));
      });
  return out;
}

std::vector<Bytes> pack_withdraw(const std::vector<Prefix>& prefixes, const CodecOptions& opts) {
  std::vector<Bytes> out;
  if (prefixes.empty()) return out;
  const size_t max = opts.max_message();
  if (prefixes.front().family() == Family::v4) {
    chunk(prefixes, max - kUpdateFixed, [&](const std::vector<Prefix>& run) {
      Update u;
      u.withdrawn = run;
      out.push_back(encode(u, opts));
    });
  } else {
    chunk(prefixes, max - kUpdateFixed - kMpAttrHeader - 3, [&](const std::vector<Prefix>& run) {
      Update u;
      u.mp_unreach = MpUnreach{{kAfiIpv6, kSafiUnicast}, run};
      out.push_back(encode(u, opts));
    });
  }
  return out;
}

Bytes end_of_rib(AfiSafi family, const CodecOptions& opts) {
  Update u;
  if (family != AfiSafi{kAfiIpv4, kSafiUnicast}) u.mp_unreach = MpUnreach{family, {}};
  return encode(u, opts);
}

}  // namespace anycastd::bgp
