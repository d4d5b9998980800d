#pragma once
// How the speaker writes routes into its log: one line per route in BIRD's order (path,
// next hop, MED, LOCAL_PREF, communities), and at which level, so that a full table at
// debug costs nothing when debug is off.
#include <optional>
#include <string>

#include "bgp/log.hpp"
#include "wire/message.hpp"

namespace anycastd::bgp {

std::string describe(const Prefix& p, const PathAttributes& attrs, const IpAddress& next_hop);

// VIPs are logged at info; learned prefixes (a full table's worth) at debug. The levels
// are read once per batch: looking the logger up takes a lock.
class BatchLogLevel {
 public:
  BatchLogLevel()
      : info_(log().should_log(spdlog::level::info)),
        debug_(log().should_log(spdlog::level::debug)) {}
  std::optional<spdlog::level::level_enum> for_route(bool vip) const {
    if (!info_) return std::nullopt;
    if (vip) return spdlog::level::info;
    return debug_ ? std::optional(spdlog::level::debug) : std::nullopt;
  }
  bool any() const { return info_; }
  bool debug() const { return debug_; }

 private:
  bool info_, debug_;
};

}  // namespace anycastd::bgp
