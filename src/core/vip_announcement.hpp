#pragma once
// The one message from the health checks to BGP about a VIP: withdraw it, or announce it
// with these additions to its configured attributes (degraded, draining). Health writes
// it and the speaker reads it, so neither copies the other's fields.
#include <cstdint>
#include <optional>
#include <vector>

namespace anycastd {

struct VipAnnouncement {
  bool announce = false;
  uint32_t extra_prepend = 0;
  std::vector<uint32_t> communities;  // added to the configured ones
  std::optional<uint32_t> med;        // replaces the configured one
  bool operator==(const VipAnnouncement&) const = default;

  static VipAnnouncement withdraw() { return {}; }
  static VipAnnouncement plain() { return {true, 0, {}, std::nullopt}; }
};

}  // namespace anycastd
