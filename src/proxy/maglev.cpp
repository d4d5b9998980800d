#include "proxy/maglev.hpp"

#include <algorithm>

#include "core/hash.hpp"

namespace anycastd::proxy {

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; uint64_t{d} * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

MaglevTable::MaglevTable(std::span<const BackendView> backends, uint32_t size) {
  struct Walk {
    uint32_t index, offset, skip, next = 0;
    double credit = 0, share;
  };
  std::vector<Walk> walks;
  uint32_t max_weight = 0;
  for (const auto& b : backends)
    if (b.healthy && b.weight > 0) max_weight = std::max(max_weight, b.weight);
  for (uint32_t i = 0; i < backends.size(); ++i) {
    const auto& b = backends[i];
    if (!b.healthy || b.weight == 0) continue;
    auto* p = reinterpret_cast<const uint8_t*>(b.name.data());
    uint64_t h1 = hash_bytes(0x6d61676c, p, b.name.size());
    uint64_t h2 = hash_bytes(0x65763031, p, b.name.size());
    walks.push_back({i, static_cast<uint32_t>(h1 % size),
                     static_cast<uint32_t>(h2 % (size - 1) + 1), 0, 0,
                     static_cast<double>(b.weight) / max_weight});
  }
  if (walks.empty()) return;
  slots_.assign(size, kNone);
  uint32_t filled = 0;
  while (true) {
    for (auto& w : walks) {
      // A lighter backend takes a turn only once its credit reaches a whole slot, so its
      // share of the table follows its weight.
      w.credit += w.share;
      while (w.credit >= 1.0) {
        w.credit -= 1.0;
        uint32_t slot;
        do {
          slot = static_cast<uint32_t>((w.offset + uint64_t{w.next} * w.skip) % size);
          ++w.next;
        } while (slots_[slot] != kNone);
        slots_[slot] = w.index;
        if (++filled == size) return;
      }
    }
  }
}

}  // namespace anycastd::proxy
