#pragma once
// What the operator configures: the local speaker, its peers and its VIPs.
#include <optional>
#include <string>
#include <vector>

#include "bgp/wire/message.hpp"
#include "runtime/time.hpp"

namespace anycastd::bgp {

struct PeerConfig {
  IpAddress address;
  uint16_t port = kBgpPort;
  uint32_t remote_as = 0;
  bool passive = false;
  uint16_t hold_time = 90;
  std::optional<IpAddress> local_address;
  // Next hops announced for "self" when the session's own address is not the one wanted
  // (an IPv6 VIP over an IPv4 session needs an IPv6 next hop).
  std::optional<IpAddress> next_hop_v4;
  std::optional<IpAddress> next_hop_v6;
  Duration connect_retry = std::chrono::seconds(5);
  std::string name() const { return address.to_string() + " AS" + std::to_string(remote_as); }
};

struct VipConfig {
  Prefix prefix;
  std::optional<IpAddress> next_hop;  // nullopt: next-hop self
  uint32_t prepend = 0;
  std::vector<uint32_t> communities;
  std::vector<LargeCommunity> large_communities;
  std::optional<uint32_t> med;
};

struct SpeakerConfig {
  uint32_t local_as = 0;
  uint32_t router_id = 0;
  std::optional<IpAddress> listen_address;  // accept inbound sessions here when set
  uint16_t listen_port = kBgpPort;
  std::vector<PeerConfig> peers;
  std::vector<VipConfig> vips;
};

}  // namespace anycastd::bgp
