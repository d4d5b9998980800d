#pragma once
// How configured VIPs enter the RIB, and which next hops stand for "self" on a session.
// Pure, so both are unit-tested without sessions.
#include "bgp/peer_config.hpp"

namespace anycastd::bgp {

// The locally originated route for a VIP: ORIGIN IGP, the configured prepends (the RIB
// adds our own ASN once more toward eBGP peers), MED, communities, and the next hop when
// one is fixed (unset means self).
PathAttributes vip_attributes(const VipConfig& vip, uint32_t local_as,
                              const VipAnnouncement& adjust = VipAnnouncement::plain());

struct SelfNextHops {
  std::optional<IpAddress> v4, v6;
};

// `local` is the session's own address. The peer's configured next hops win; an IPv6
// route over an IPv4 session gets the IPv4-mapped form of our address, as BIRD and FRR
// send, so the peer can still resolve it.
SelfNextHops self_next_hops(const PeerConfig& peer, const IpAddress& local);

}  // namespace anycastd::bgp
