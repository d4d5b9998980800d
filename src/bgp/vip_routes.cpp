#include "bgp/vip_routes.hpp"

#include <algorithm>

namespace anycastd::bgp {

PathAttributes vip_attributes(const VipConfig& vip, uint32_t local_as,
                              const VipAnnouncement& adjust) {
  PathAttributes a;
  a.origin = kOriginIgp;
  AsPath path;
  for (auto it = vip.path_asns.rbegin(); it != vip.path_asns.rend(); ++it) path.prepend(*it, 1);
  path.prepend(local_as, vip.prepend + adjust.extra_prepend);
  a.as_path = path;
  a.med = adjust.med ? adjust.med : vip.med;
  a.communities = vip.communities;
  for (auto c : adjust.communities)
    if (std::find(a.communities.begin(), a.communities.end(), c) == a.communities.end())
      a.communities.push_back(c);
  a.large_communities = vip.large_communities;
  a.next_hop = vip.next_hop;
  return a;
}

SelfNextHops self_next_hops(const PeerConfig& peer, const IpAddress& local) {
  SelfNextHops s;
  if (peer.next_hop_v4) {
    s.v4 = peer.next_hop_v4;
  } else if (local.is_v4()) {
    s.v4 = local;
  }
  if (peer.next_hop_v6) {
    s.v6 = peer.next_hop_v6;
  } else if (local.is_v6()) {
    s.v6 = local;
  } else {
    std::array<uint8_t, 16> raw{};
    raw[10] = raw[11] = 0xFF;
    for (int i = 0; i < 4; ++i) raw[12 + i] = local.raw()[i];
    s.v6 = IpAddress::v6(raw);
  }
  return s;
}

}  // namespace anycastd::bgp
