#include "bgp/vip_routes.hpp"

namespace anycastd::bgp {

std::optional<VipAdvert> vip_advert(const VipConfig& vip, uint32_t local_as, const PeerConfig& peer,
                                    const IpAddress& local) {
  VipAdvert a;
  const bool v6 = vip.prefix.family() == Family::v6;
  if (vip.next_hop) {
    a.next_hop = *vip.next_hop;
  } else if (!v6 && peer.next_hop_v4) {
    a.next_hop = *peer.next_hop_v4;
  } else if (v6 && peer.next_hop_v6) {
    a.next_hop = *peer.next_hop_v6;
  } else if (local.family() == vip.prefix.family()) {
    a.next_hop = local;
  } else if (v6) {
    // IPv6 route over an IPv4 session: the IPv4-mapped form of our address, as BIRD and
    // FRR do, so the peer can still resolve it.
    std::array<uint8_t, 16> raw{};
    raw[10] = raw[11] = 0xFF;
    for (int i = 0; i < 4; ++i) raw[12 + i] = local.raw()[i];
    a.next_hop = IpAddress::v6(raw);
  } else {
    return std::nullopt;
  }
  if (a.next_hop.family() != vip.prefix.family()) return std::nullopt;

  const bool ebgp = peer.remote_as != local_as;
  a.attrs.origin = kOriginIgp;
  AsPath path;
  path.prepend(local_as, vip.prepend + (ebgp ? 1 : 0));
  a.attrs.as_path = path;
  a.attrs.med = vip.med;
  if (!ebgp) a.attrs.local_pref = 100;
  a.attrs.communities = vip.communities;
  a.attrs.large_communities = vip.large_communities;
  return a;
}

}  // namespace anycastd::bgp
