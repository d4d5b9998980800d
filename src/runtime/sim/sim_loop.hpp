#pragma once
// Discrete-event loop with virtual time: run_until() jumps straight to the next due event,
// so hours of protocol time pass in milliseconds and every run repeats exactly.
#include <map>
#include <utility>

#include "runtime/loop.hpp"

namespace anycastd::sim {

class SimLoop : public Loop {
 public:
  TimePoint now() const override { return now_; }
  TimerId schedule(Duration d, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  // Runs events due up to and including `until`; the clock then reads `until`.
  void run_until(TimePoint until);
  void run_for(Duration d) { run_until(now_ + d); }
  // Runs until no events remain or `limit` is reached; true if it went idle.
  bool run_until_idle(Duration limit = std::chrono::hours(24));
  size_t pending() const { return queue_.size(); }

 private:
  TimePoint now_{};
  TimerId next_id_ = 1;
  // Keyed by (due time, id): ties break by scheduling order, deterministically.
  std::map<std::pair<TimePoint, TimerId>, std::function<void()>> queue_;
  std::map<TimerId, TimePoint> due_;
};

}  // namespace anycastd::sim
