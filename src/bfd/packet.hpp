#pragma once
// The BFD Control packet (RFC 5880 §4.1): its fields, and the checks of §6.8.6 that need
// nothing but the packet itself.
#include <cstdint>
#include <string>

#include "core/bytes.hpp"
#include "core/result.hpp"

namespace anycastd::bfd {

enum class State : uint8_t { admin_down = 0, down = 1, init = 2, up = 3 };

// Why the local side last changed state (RFC 5880 §4.1, "Diag").
enum class Diag : uint8_t {
  none = 0,
  detection_expired = 1,
  echo_failed = 2,
  neighbor_down = 3,
  forwarding_reset = 4,
  path_down = 5,
  concatenated_path_down = 6,
  admin_down = 7,
  reverse_concatenated_path_down = 8,
};

const char* to_string(State s);
const char* to_string(Diag d);

inline constexpr uint16_t kSingleHopPort = 3784;  // RFC 5881 §4
inline constexpr uint16_t kMultiHopPort = 4784;   // RFC 5883 §5
inline constexpr size_t kPacketSize = 24;         // without an authentication section

struct ControlPacket {
  Diag diag = Diag::none;
  State state = State::down;
  bool poll = false, final = false;
  bool control_plane_independent = false;
  bool authenticated = false;
  bool demand = false;
  uint8_t detect_mult = 3;
  uint32_t my_disc = 0, your_disc = 0;
  // Microseconds, as on the wire.
  uint32_t desired_min_tx = 0, required_min_rx = 0, required_min_echo_rx = 0;
  bool operator==(const ControlPacket&) const = default;
};

Bytes encode(const ControlPacket& p);
// A packet that §6.8.6 says to discard comes back as the reason. Authenticated packets are
// refused: no authentication is configured, and then the A bit alone means discard.
Result<ControlPacket, std::string> decode(ByteView data);

}  // namespace anycastd::bfd
