#pragma once
// How a configured VIP looks on the wire toward one peer: next hop, AS path with prepends,
// communities, MED. Pure, so it is unit-tested without sessions.
#include <map>

#include "bgp/peer_config.hpp"

namespace anycastd::bgp {

struct VipAdvert {
  PathAttributes attrs;
  IpAddress next_hop;
};

// `local` is the session's own address, used for next-hop self. nullopt when the VIP
// cannot be sent to this peer (no usable next hop of the VIP's family).
std::optional<VipAdvert> vip_advert(const VipConfig& vip, uint32_t local_as, const PeerConfig& peer,
                                    const IpAddress& local);

// Groups adverts that share attributes and next hop, so each group packs into as few
// UPDATEs as possible.
struct AdvertGroupKey {
  Family family;
  IpAddress next_hop;
  size_t attrs_index;
  auto operator<=>(const AdvertGroupKey&) const = default;
};

}  // namespace anycastd::bgp
