#pragma once
// Packs many prefixes that share one attribute set into as few UPDATEs as the negotiated
// message size allows.
#include <vector>

#include "wire/codec.hpp"

namespace anycastd::bgp {

// Announces `prefixes` (all of one family) with `attrs` and `next_hop`. IPv4 goes in the
// classic NLRI field with a NEXT_HOP attribute; IPv6 in MP_REACH_NLRI.
std::vector<Bytes> pack_announce(const PathAttributes& attrs, const IpAddress& next_hop,
                                 const std::vector<Prefix>& prefixes, const CodecOptions& opts);

// Withdraws `prefixes` (all of one family).
std::vector<Bytes> pack_withdraw(const std::vector<Prefix>& prefixes, const CodecOptions& opts);

// RFC 4724 §2 End-of-RIB marker for one family.
Bytes end_of_rib(AfiSafi family, const CodecOptions& opts);

}  // namespace anycastd::bgp
