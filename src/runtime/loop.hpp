#pragma once
// The event loop as the daemon's modules see it: a monotonic clock and timers. The real
// loop (asio/) and the simulated one (sim/) both implement it.
#include <cstdint>
#include <functional>

#include "core/time.hpp"

namespace anycastd {

using TimerId = uint64_t;

class Loop {
 public:
  virtual ~Loop() = default;
  virtual TimePoint now() const = 0;
  // Runs fn once after d. Timers due at the same instant run in the order they were set.
  virtual TimerId schedule(Duration d, std::function<void()> fn) = 0;
  // Cancelling an unknown or already-run timer does nothing.
  virtual void cancel(TimerId id) = 0;
  void post(std::function<void()> fn) { schedule(Duration::zero(), std::move(fn)); }
};

}  // namespace anycastd
