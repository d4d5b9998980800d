#pragma once
// What the operator configures: the local speaker, its peers and its VIPs.
#include <optional>
#include <string>
#include <vector>

#include <map>

#include "bfd/session.hpp"
#include "core/time.hpp"
#include "core/vip_announcement.hpp"
#include "policy/policy.hpp"
#include "rib/decision.hpp"
#include "wire/message.hpp"

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
  // Policy names from SpeakerConfig::policies; empty means the RFC 8212 default (nothing
  // learned is accepted from or exported to an eBGP peer; VIPs are always exported).
  std::string import_policy, export_policy;
  uint32_t allow_own_as = 0;
  bool route_reflector_client = false;
  bool route_server_client = false;
  struct MaxPrefix {
    uint32_t limit = 0;  // 0: none
    uint8_t warning_percent = 80;
    bool restart = true;  // false: warn only
    Duration restart_after = std::chrono::seconds(60);
    bool operator==(const MaxPrefix&) const = default;
  } max_prefix;
  // Minimum time between UPDATE batches to this peer; 0 sends every change at once.
  Duration mrai{0};
  // Refuse a peer that does not offer route refresh (the lab's Azure Route Server).
  bool require_route_refresh = false;
  // After a session error the peer waits, and refuses the neighbour's connections, for
  // error_wait_min, doubling per consecutive error up to error_wait_max (BIRD's `error wait
  // time`); a session that stays up error_forget long clears the count.
  Duration error_wait_min = std::chrono::seconds(1);
  Duration error_wait_max = std::chrono::seconds(120);
  Duration error_forget = std::chrono::seconds(60);
  // TCP-MD5 (RFC 2385) key, from `password` or the first line of `password_file`. Never
  // logged or shown: `show peers` and `--print` say only that one is set.
  std::string password;
  std::string password_file;  // where it came from, for --print; empty when inline
  // GTSM (RFC 5082): send with TTL 255, accept nothing below 254 (one hop).
  bool ttl_security = false;
  // TTL of this session's segments for a neighbour that is not directly connected; 0:
  // the system default (64 on Linux).
  uint8_t multihop = 0;
  // BFD (RFC 5880) with these intervals; its Down takes the session down at once. Single
  // hop (RFC 5881) unless `multihop` is set (RFC 5883).
  std::optional<bfd::Params> bfd;
  std::string name() const { return address.to_string() + " AS" + std::to_string(remote_as); }
  bool operator==(const PeerConfig&) const = default;
};

// What health checks add to a VIP's announcement when it is degraded or draining.
struct VipConfig {
  Prefix prefix;
  std::optional<IpAddress> next_hop;  // nullopt: next-hop self
  uint32_t prepend = 0;
  std::vector<uint32_t> communities;
  std::vector<LargeCommunity> large_communities;
  std::optional<uint32_t> med;
  // False when health checks decide: nothing is announced before they pass.
  bool start_announced = true;
  // ASNs the originated path carries behind ours: the lab's Virtual WAN route map that
  // prepends an ASN on routes from a connection.
  std::vector<uint32_t> path_asns{};
  // Configured under `networks:`: an originated prefix of any length (a gateway's VNet
  // range) rather than a VIP.
  bool network = false;
  bool operator==(const VipConfig&) const = default;
};

struct SpeakerConfig {
  uint32_t local_as = 0;
  uint32_t router_id = 0;
  std::optional<IpAddress> listen_address;  // accept inbound sessions here when set
  uint16_t listen_port = kBgpPort;
  std::vector<PeerConfig> peers;
  std::vector<VipConfig> vips;
  rib::DecisionConfig decision;
  std::map<std::string, policy::Policy> policies;
};

}  // namespace anycastd::bgp
