#pragma once
// Numbers from the BGP RFCs, named once.
#include <cstddef>
#include <cstdint>

namespace anycastd::bgp {

inline constexpr size_t kHeaderSize = 19;
inline constexpr size_t kMaxMessage = 4096;           // RFC 4271 §4.1
inline constexpr size_t kMaxExtendedMessage = 65535;  // RFC 8654
inline constexpr uint16_t kAsTrans = 23456;           // RFC 6793
inline constexpr uint16_t kBgpPort = 179;

enum class MessageType : uint8_t {
  open = 1,
  update = 2,
  notification = 3,
  keepalive = 4,
  route_refresh = 5
};

enum Afi : uint16_t { kAfiIpv4 = 1, kAfiIpv6 = 2 };
enum Safi : uint8_t { kSafiUnicast = 1 };

namespace attr {
inline constexpr uint8_t kOptional = 0x80;
inline constexpr uint8_t kTransitive = 0x40;
inline constexpr uint8_t kPartial = 0x20;
inline constexpr uint8_t kExtendedLength = 0x10;

inline constexpr uint8_t kOrigin = 1;
inline constexpr uint8_t kAsPath = 2;
inline constexpr uint8_t kNextHop = 3;
inline constexpr uint8_t kMed = 4;
inline constexpr uint8_t kLocalPref = 5;
inline constexpr uint8_t kAtomicAggregate = 6;
inline constexpr uint8_t kAggregator = 7;
inline constexpr uint8_t kCommunities = 8;
inline constexpr uint8_t kOriginatorId = 9;  // RFC 4456
inline constexpr uint8_t kClusterList = 10;  // RFC 4456
inline constexpr uint8_t kMpReach = 14;
inline constexpr uint8_t kMpUnreach = 15;
inline constexpr uint8_t kAs4Path = 17;
inline constexpr uint8_t kAs4Aggregator = 18;
inline constexpr uint8_t kLargeCommunities = 32;
}  // namespace attr

enum AsSegmentType : uint8_t {
  kAsSet = 1,
  kAsSequence = 2,
  kAsConfedSequence = 3,
  kAsConfedSet = 4
};
enum Origin : uint8_t { kOriginIgp = 0, kOriginEgp = 1, kOriginIncomplete = 2 };

namespace cap {
inline constexpr uint8_t kMultiprotocol = 1;
inline constexpr uint8_t kRouteRefresh = 2;
inline constexpr uint8_t kExtendedMessage = 6;
inline constexpr uint8_t kGracefulRestart = 64;
inline constexpr uint8_t kFourOctetAs = 65;
inline constexpr uint8_t kEnhancedRouteRefresh = 70;
}  // namespace cap

// NOTIFICATION error codes and subcodes (RFC 4271 §4.5, RFC 4486, RFC 7313).
namespace err {
inline constexpr uint8_t kHeader = 1;
inline constexpr uint8_t kOpen = 2;
inline constexpr uint8_t kUpdate = 3;
inline constexpr uint8_t kHoldTimerExpired = 4;
inline constexpr uint8_t kFsm = 5;
inline constexpr uint8_t kCease = 6;
inline constexpr uint8_t kRouteRefresh = 7;

inline constexpr uint8_t kConnectionNotSynchronized = 1;
inline constexpr uint8_t kBadMessageLength = 2;
inline constexpr uint8_t kBadMessageType = 3;

inline constexpr uint8_t kUnsupportedVersion = 1;
inline constexpr uint8_t kBadPeerAs = 2;
inline constexpr uint8_t kBadBgpId = 3;
inline constexpr uint8_t kUnsupportedOptionalParameter = 4;
inline constexpr uint8_t kUnacceptableHoldTime = 6;
inline constexpr uint8_t kUnsupportedCapability = 7;

inline constexpr uint8_t kMalformedAttributeList = 1;
inline constexpr uint8_t kUnrecognizedWellKnown = 2;
inline constexpr uint8_t kMissingWellKnown = 3;
inline constexpr uint8_t kAttributeFlags = 4;
inline constexpr uint8_t kAttributeLength = 5;
inline constexpr uint8_t kInvalidOrigin = 6;
inline constexpr uint8_t kInvalidNextHop = 8;
inline constexpr uint8_t kOptionalAttribute = 9;
inline constexpr uint8_t kInvalidNetworkField = 10;
inline constexpr uint8_t kMalformedAsPath = 11;

inline constexpr uint8_t kCeaseMaxPrefixes = 1;
inline constexpr uint8_t kCeaseAdminShutdown = 2;
inline constexpr uint8_t kCeasePeerDeconfigured = 3;
inline constexpr uint8_t kCeaseAdminReset = 4;
inline constexpr uint8_t kCeaseConnectionRejected = 5;
inline constexpr uint8_t kCeaseConfigChange = 6;
inline constexpr uint8_t kCeaseCollision = 7;
inline constexpr uint8_t kCeaseBfdDown = 10;  // RFC 9384

inline constexpr uint8_t kRouteRefreshInvalidLength = 1;
}  // namespace err

}  // namespace anycastd::bgp
