#pragma once
// Rise/fall hysteresis of one check, sans-I/O: `fall` consecutive failures take an up
// check down, `rise` consecutive successes bring a down check up. Checks start down, so
// nothing is announced before a backend has proven itself `rise` times.
#include <cstdint>
#include <optional>

#include <array>

#include "health/check_result.hpp"
#include "health/latency_histogram.hpp"

namespace anycastd::health {

class CheckState {
 public:
  CheckState(uint32_t rise, uint32_t fall) : rise_(rise), fall_(fall) {}

  // Records one result; true when it flipped the state.
  bool record(const CheckResult& r, TimePoint now);

  bool up() const { return up_; }
  // A reloaded check carries on from its predecessor's verdict instead of starting down,
  // so changing an interval does not withdraw a healthy VIP.
  void assume(bool up, std::optional<TimePoint> since) {
    up_ = up;
    since_ = since;
  }
  uint32_t successes() const { return successes_; }  // consecutive
  uint32_t failures() const { return failures_; }    // consecutive
  const std::optional<CheckResult>& last() const { return last_; }
  // When the state last flipped (or the first result came).
  std::optional<TimePoint> since() const { return since_; }
  uint64_t checks() const { return checks_; }
  const LatencyHistogram& latency() const { return latency_; }
  // Results by Failure kind (none: successes), since start.
  uint64_t results(Failure f) const { return results_[static_cast<size_t>(f)]; }

 private:
  uint32_t rise_, fall_;
  bool up_ = false;
  uint32_t successes_ = 0, failures_ = 0;
  std::optional<CheckResult> last_;
  std::optional<TimePoint> since_;
  uint64_t checks_ = 0;
  LatencyHistogram latency_;
  std::array<uint64_t, static_cast<size_t>(Failure::error) + 1> results_{};
};

}  // namespace anycastd::health
