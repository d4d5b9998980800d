#pragma once
// Monotonic time as the protocol cores see it. Real and simulated loops both produce it,
// so nothing in a core can tell (or needs to know) which one it runs on.
#include <chrono>
#include <cstdint>

namespace anycastd {

struct MonoClock {
  using rep = int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<MonoClock>;
  static constexpr bool is_steady = true;
};

using Duration = MonoClock::duration;
using TimePoint = MonoClock::time_point;

}  // namespace anycastd
