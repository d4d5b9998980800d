#pragma once
// Deletion from a linear-probing table whose size is a power of two, shared by the prefix
// index and the attribute store.
#include <cstddef>

namespace anycastd::rib {

// Backward-shift deletion: empties `hole` and moves later members of its probe run up,
// so the table needs no tombstones. `home(slot)` is where a slot's occupant would sit
// with no collision.
template <class Slots, class Slot, class Home>
void erase_slot(Slots& slots, size_t hole, const Slot& empty, Home home) {
  const size_t mask = slots.size() - 1;
  for (size_t i = (hole + 1) & mask;; i = (i + 1) & mask) {
    if (slots[i] == empty) break;
    size_t h = home(slots[i]);
    // It stays when its home lies in (hole, i], cyclically: moving it would put it
    // before its home.
    bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
    if (stays) continue;
    slots[hole] = slots[i];
    hole = i;
  }
  slots[hole] = empty;
}

}  // namespace anycastd::rib
