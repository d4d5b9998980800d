#pragma once
// From the health of a VIP's backends to what is announced for it, sans-I/O: the rule
// (any, all, min N, min-percent P), the action when it fails (withdraw, or degrade: keep
// announcing with extra prepend / community / MED so another region wins), flap damping,
// and drain for planned maintenance (RFC 8326 GRACEFUL_SHUTDOWN, then withdraw).
// Time comes in as arguments; the caller wakes it at next_deadline().
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/vip_announcement.hpp"

#include "core/time.hpp"

namespace anycastd::health {

inline constexpr uint32_t kGracefulShutdown = 0xFFFF0000;  // 65535:0, RFC 8326

struct VipHealthConfig {
  std::vector<std::string> checks;
  enum class Rule { any, all, min, min_percent } rule = Rule::any;
  uint32_t min = 1;  // backends for `min`, percent for `min_percent`
  enum class Action { withdraw, degrade } action = Action::withdraw;
  struct Degrade {
    uint32_t prepend = 3;
    std::vector<uint32_t> communities;
    std::optional<uint32_t> med;
    bool operator==(const Degrade&) const = default;
  } degrade;
  struct Damping {
    uint32_t changes = 0;  // more state changes than this within `window` hold it down; 0: off
    Duration window = std::chrono::seconds(60);
    Duration hold = std::chrono::seconds(30);  // first hold; doubles on each repeat
    Duration max_hold = std::chrono::seconds(600);
    bool operator==(const Damping&) const = default;
  } damping;
  Duration drain_time = std::chrono::seconds(10);
  uint32_t drain_prepend = 3;
  bool operator==(const VipHealthConfig&) const = default;
};

enum class VipStatus { announced, degraded, withdrawn, held_down, draining, drained };
std::string to_string(VipStatus s);

class VipHealth {
 public:
  explicit VipHealth(VipHealthConfig cfg) : cfg_(std::move(cfg)) {}

  // The number of healthy backends among `total` changed (or may have).
  void update(size_t healthy, size_t total, TimePoint now);
  void drain(TimePoint now);
  void undrain(TimePoint now);
  // Wakes timed transitions (hold-down end, drain end). Call at next_deadline().
  void tick(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  VipAnnouncement announcement() const;
  VipStatus status() const { return status_; }
  const std::string& reason() const { return reason_; }
  TimePoint since() const { return since_; }
  std::optional<TimePoint> held_until() const { return held_until_; }
  bool rule_holds() const { return healthy_ok_; }
  const VipHealthConfig& config() const { return cfg_; }

 private:
  bool rule(size_t healthy, size_t total) const;
  void settle(TimePoint now);
  void set(VipStatus s, std::string why, TimePoint now);

  VipHealthConfig cfg_;
  bool healthy_ok_ = false;
  bool known_ = false;  // a first evaluation happened
  size_t healthy_ = 0, total_ = 0;
  VipStatus status_ = VipStatus::withdrawn;
  std::string reason_ = "no check result yet";
  TimePoint since_{};
  std::deque<TimePoint> changes_;  // rule flips within the damping window
  std::optional<TimePoint> held_until_;
  Duration next_hold_{};
  bool draining_ = false;
  std::optional<TimePoint> drain_end_;
};

}  // namespace anycastd::health
