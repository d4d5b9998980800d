#include "wire/packer.hpp"

namespace anycastd::bgp {

namespace {

constexpr size_t kUpdateFixed = kHeaderSize + 2 + 2;  // header, withdrawn len, attr len
constexpr size_t kMpAttrHeader = 4;                   // flags, type, extended length

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

}  // namespace

std::vector<Bytes> pack_announce(const PathAttributes& attrs, const IpAddress& next_hop,
                                 const std::vector<Prefix>& prefixes, const CodecOptions& opts) {
  std::vector<Bytes> out;
  if (prefixes.empty()) return out;
  const size_t max = opts.max_message();
  if (prefixes.front().family() == Family::v4) {
    Update u;
    u.attrs = attrs;
    u.attrs.next_hop = next_hop;
    size_t base = kUpdateFixed + encode_attributes(u.attrs, {}, {}, opts).size();
    chunk(prefixes, max - base, [&](const std::vector<Prefix>& run) {
      u.nlri = run;
      out.push_back(encode(u, opts));
    });
  } else {
    Update u;
    u.attrs = attrs;
    u.attrs.next_hop.reset();
    size_t base = kUpdateFixed + encode_attributes(u.attrs, {}, {}, opts).size() + kMpAttrHeader +
                  3 + 1 + next_hop.byte_size() + 1;
    chunk(prefixes, max - base, [&](const std::vector<Prefix>& run) {
      u.mp_reach = MpReach{{kAfiIpv6, kSafiUnicast}, next_hop, std::nullopt, run};
      out.push_back(encode(u, opts));
    });
  }
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
