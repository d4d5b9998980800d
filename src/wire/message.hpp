#pragma once
// BGP messages as plain values. The codec turns bytes into these and back; nothing here
// does I/O.
#include <compare>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/ip.hpp"
#include "wire/constants.hpp"

namespace anycastd::bgp {

struct AfiSafi {
  uint16_t afi = kAfiIpv4;
  uint8_t safi = kSafiUnicast;
  auto operator<=>(const AfiSafi&) const = default;
};

struct GracefulRestart {
  bool restarting = false;  // R bit
  uint16_t time = 0;        // seconds, 12 bits on the wire
  struct Family {
    AfiSafi afi_safi;
    bool forwarding_preserved = false;
    bool operator==(const Family&) const = default;
  };
  std::vector<Family> families;
  bool operator==(const GracefulRestart&) const = default;
};

struct RawCapability {
  uint8_t code = 0;
  Bytes value;
  bool operator==(const RawCapability&) const = default;
};

struct Capabilities {
  std::vector<AfiSafi> multiprotocol;
  std::optional<uint32_t> four_octet_as;
  bool route_refresh = false;
  bool enhanced_route_refresh = false;
  bool extended_message = false;
  std::optional<GracefulRestart> graceful_restart;
  std::vector<RawCapability> unknown;
  bool operator==(const Capabilities&) const = default;
  bool supports(AfiSafi f) const;
};

struct Open {
  uint8_t version = 4;
  uint16_t my_as = 0;  // AS_TRANS when the real ASN needs four octets
  uint16_t hold_time = 0;
  uint32_t bgp_id = 0;
  Capabilities caps;
  bool operator==(const Open&) const = default;
  // The speaker's real ASN: the 4-octet capability when present (RFC 6793 §4.1).
  uint32_t asn() const { return caps.four_octet_as.value_or(my_as); }
};

struct AsSegment {
  uint8_t type = kAsSequence;
  std::vector<uint32_t> asns;
  bool operator==(const AsSegment&) const = default;
};

struct AsPath {
  std::vector<AsSegment> segments;
  bool operator==(const AsPath&) const = default;
  // Path length for best-path selection: a SET counts one, confederation segments none.
  size_t length() const;
  bool contains(uint32_t asn) const;
  // The neighbouring AS (first ASN of the first SEQUENCE), for MED comparison and policy.
  std::optional<uint32_t> first_asn() const;
  // The originating AS; none when the path ends in a SET (an aggregate has no one origin).
  std::optional<uint32_t> origin_asn() const;
  void prepend(uint32_t asn, size_t times = 1);
  std::string to_string() const;  // "65010 65010 {1 2}"
};

struct LargeCommunity {
  uint32_t global = 0, local1 = 0, local2 = 0;
  auto operator<=>(const LargeCommunity&) const = default;
};

struct Aggregator {
  uint32_t asn = 0;
  IpAddress address;
  bool operator==(const Aggregator&) const = default;
};

struct RawAttribute {
  uint8_t flags = 0;
  uint8_t type = 0;
  Bytes value;
  bool operator==(const RawAttribute&) const = default;
};

struct PathAttributes {
  std::optional<uint8_t> origin;
  std::optional<AsPath> as_path;
  std::optional<IpAddress> next_hop;  // NEXT_HOP attribute (IPv4 NLRI)
  std::optional<uint32_t> med;
  std::optional<uint32_t> local_pref;
  bool atomic_aggregate = false;
  std::optional<Aggregator> aggregator;
  std::vector<uint32_t> communities;
  std::vector<LargeCommunity> large_communities;
  // Route reflection (RFC 4456): who put the route into the AS, and the clusters it has
  // been reflected through, nearest first. Never sent to an eBGP peer.
  std::optional<uint32_t> originator_id;
  std::vector<uint32_t> cluster_list;
  std::vector<RawAttribute> unknown;  // optional transitive attributes passed through
  bool operator==(const PathAttributes&) const = default;
};

struct MpReach {
  AfiSafi afi_safi;
  IpAddress next_hop;
  std::optional<IpAddress> link_local;
  std::vector<Prefix> nlri;
  bool operator==(const MpReach&) const = default;
};

struct MpUnreach {
  AfiSafi afi_safi;
  std::vector<Prefix> withdrawn;
  bool operator==(const MpUnreach&) const = default;
};

struct Update {
  std::vector<Prefix> withdrawn;  // IPv4 unicast, in the classic field
  PathAttributes attrs;
  std::optional<MpReach> mp_reach;
  std::optional<MpUnreach> mp_unreach;
  std::vector<Prefix> nlri;  // IPv4 unicast, in the classic field

  // RFC 7606 outcome of decoding: when set, every announced prefix must be handled as
  // withdrawn. `diagnostics` names each attribute that was malformed or discarded.
  bool treat_as_withdraw = false;
  std::vector<std::string> diagnostics;
  // A LOCAL_PREF from an external peer was dropped: the rule, not a fault of the peer's, so
  // it is kept apart from the diagnostics (which are logged as warnings).
  bool ignored_local_pref = false;

  bool operator==(const Update&) const = default;
  // RFC 4724 §2: an UPDATE with nothing in it, or an MP_UNREACH with no prefixes.
  std::optional<AfiSafi> end_of_rib() const;
  // All prefixes this update announces (classic NLRI and MP_REACH).
  std::vector<Prefix> announced() const;
  // All prefixes this update withdraws, including announcements demoted by treat-as-withdraw.
  std::vector<Prefix> withdrawn_all() const;
};

struct Notification {
  uint8_t code = 0;
  uint8_t subcode = 0;
  Bytes data;
  bool operator==(const Notification&) const = default;
  std::string to_string() const;  // "Cease/Administrative Shutdown"
};

struct Keepalive {
  bool operator==(const Keepalive&) const = default;
};

struct RouteRefresh {
  AfiSafi afi_safi;
  uint8_t subtype = 0;  // RFC 7313: 0 request, 1 BoRR, 2 EoRR
  bool operator==(const RouteRefresh&) const = default;
};

using Message = std::variant<Open, Update, Notification, Keepalive, RouteRefresh>;

std::string community_to_string(uint32_t c);
std::string large_community_to_string(const LargeCommunity& c);

}  // namespace anycastd::bgp
