#pragma once
// Check latencies in fixed buckets, for the metrics endpoint (a Prometheus histogram):
// from 1 ms (a probe on loopback) to 2.5 s (a slow timeout).
#include <array>
#include <cstdint>

#include "core/time.hpp"

namespace anycastd::health {

class LatencyHistogram {
 public:
  static constexpr std::array<double, 11> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  2.5};
  void add(Duration d) {
    double s = std::chrono::duration<double>(d).count();
    size_t i = 0;
    while (i < kBounds.size() && s > kBounds[i]) ++i;
    ++counts_[i];
    sum_ += s;
    ++count_;
  }
  // Observations <= kBounds[i] (cumulative, as Prometheus wants); i == size: all of them.
  uint64_t at_most(size_t i) const {
    uint64_t n = 0;
    for (size_t j = 0; j <= i && j < counts_.size(); ++j) n += counts_[j];
    return n;
  }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::array<uint64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace anycastd::health
