#pragma once
// Packs many prefixes that share one attribute set into as few UPDATEs as the negotiated
// message size allows, encoding the attributes once for all of them.
#include <string>
#include <vector>

#include "core/result.hpp"
#include "wire/codec.hpp"

namespace anycastd::bgp {

// Announces `prefixes` (all of one family) with `attrs` (NEXT_HOP unset) and `next_hop`.
// IPv4 goes in the classic NLRI field with a NEXT_HOP attribute; IPv6 in MP_REACH_NLRI.
// The attributes are sized as this peer reads them (2-octet AS_PATH plus AS4_PATH toward
// a peer without 4-octet ASNs). When they alone leave no room for a prefix, nothing is
// packed and the error says why: RFC 4271 §9.2 says such a route is not advertised.
Result<std::vector<Bytes>, std::string> pack_announce(const PathAttributes& attrs,
                                                      const IpAddress& next_hop,
                                                      const std::vector<Prefix>& prefixes,
                                                      const CodecOptions& opts);

// Withdraws `prefixes` (all of one family).
std::vector<Bytes> pack_withdraw(const std::vector<Prefix>& prefixes, const CodecOptions& opts);

// RFC 4724 §2 End-of-RIB marker for one family.
Bytes end_of_rib(AfiSafi family, const CodecOptions& opts);

}  // namespace anycastd::bgp
