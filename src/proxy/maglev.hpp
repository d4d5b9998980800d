#pragma once
// The lookup table of Maglev (Eisenbud et al., NSDI 2016, section 3.4): each backend walks
// its own permutation of the slots, taking turns in proportion to its weight, until every
// slot is owned. Equal backends get nearly equal shares, and a backend that comes or goes
// moves few slots that it did not own.
#include <cstdint>
#include <span>
#include <vector>

#include "proxy/balancer.hpp"

namespace anycastd::proxy {

class MaglevTable {
 public:
  static constexpr uint32_t kDefaultSize = 65537;  // prime, and > 100 x backends up to 655
  static constexpr uint32_t kNone = UINT32_MAX;
  // `size` must be prime so that every skip walks all slots.
  MaglevTable(std::span<const BackendView> backends, uint32_t size = kDefaultSize);

  uint32_t lookup(uint64_t hash) const {
    return slots_.empty() ? kNone : slots_[hash % slots_.size()];
  }
  uint32_t size() const { return static_cast<uint32_t>(slots_.size()); }
  const std::vector<uint32_t>& slots() const { return slots_; }

 private:
  std::vector<uint32_t> slots_;  // empty when no backend is healthy
};

bool is_prime(uint32_t n);

}  // namespace anycastd::proxy
