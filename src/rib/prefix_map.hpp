#pragma once
// A hash map from prefix to value for the routing tables: values live densely in one
// vector (a full table walk is a linear scan, and a million entries cost no million heap
// nodes), found through an open-addressing index of 8-byte slots, each holding the entry's
// position and the upper half of its hash (which also picks its home slot), so a probe
// rarely touches a wrong entry and deletion never needs to rehash one.
//
// Unlike std::unordered_map, inserting may move every entry and erasing moves the last
// entry into the hole: pointers and iterators last only until the next insert or erase.
#include <cstdint>
#include <utility>
#include <vector>

#include "core/hash.hpp"

namespace anycastd::rib {

template <class V>
class PrefixMap {
 public:
  using value_type = std::pair<Prefix, V>;
  using iterator = value_type*;
  using const_iterator = const value_type*;

  iterator begin() { return items_.data(); }
  iterator end() { return items_.data() + items_.size(); }
  const_iterator begin() const { return items_.data(); }
  const_iterator end() const { return items_.data() + items_.size(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  iterator find(const Prefix& p) {
    if (items_.empty()) return end();
    auto [slot, found] = locate(p, hash(p));
    return found ? &items_[index(slots_[slot])] : end();
  }
  const_iterator find(const Prefix& p) const { return const_cast<PrefixMap*>(this)->find(p); }

  template <class... Args>
  std::pair<iterator, bool> try_emplace(const Prefix& p, Args&&... args) {
    if ((items_.size() + 1) * 4 > slots_.size() * 3) grow();
    uint64_t h = hash(p);
    auto [slot, found] = locate(p, h);
    if (found) return {&items_[index(slots_[slot])], false};
    slots_[slot] = pack(static_cast<uint32_t>(items_.size()), h);
    items_.emplace_back(std::piecewise_construct, std::forward_as_tuple(p),
                        std::forward_as_tuple(std::forward<Args>(args)...));
    return {&items_.back(), true};
  }
  std::pair<iterator, bool> emplace(const Prefix& p, V v) { return try_emplace(p, std::move(v)); }
  V& operator[](const Prefix& p) { return try_emplace(p).first->second; }

  void erase(iterator it) {
    auto pos = static_cast<uint32_t>(it - items_.data());
    auto [slot, found] = locate(it->first, hash(it->first));
    (void)found;
    unlink(slot);
    uint32_t last = static_cast<uint32_t>(items_.size() - 1);
    if (pos != last) {
      // The last entry fills the hole; its slot is repointed.
      auto [lslot, lfound] = locate(items_[last].first, hash(items_[last].first));
      (void)lfound;
      slots_[lslot] = pack(pos, slots_[lslot]);
      items_[pos] = std::move(items_[last]);
    }
    items_.pop_back();
  }
  size_t erase(const Prefix& p) {
    auto it = find(p);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }
  void clear() {
    items_.clear();
    items_.shrink_to_fit();
    slots_.clear();
    slots_.shrink_to_fit();
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  static uint64_t hash(const Prefix& p) { return std::hash<Prefix>{}(p); }
  static uint32_t index(uint64_t slot) { return static_cast<uint32_t>(slot); }
  static uint64_t pack(uint32_t index, uint64_t hash) {
    return (hash & 0xFFFFFFFF00000000ULL) | index;
  }
  size_t mask() const { return slots_.size() - 1; }
  size_t home(uint64_t hash_or_slot) const { return (hash_or_slot >> 32) & mask(); }

  // The slot holding `p`, or the empty slot where it would go.
  std::pair<size_t, bool> locate(const Prefix& p, uint64_t h) const {
    uint64_t tag = h & 0xFFFFFFFF00000000ULL;
    for (size_t i = home(h);; i = (i + 1) & mask()) {
      uint64_t s = slots_[i];
      if (s == kEmpty) return {i, false};
      if ((s & 0xFFFFFFFF00000000ULL) == tag && items_[index(s)].first == p) return {i, true};
    }
  }

  // Backward-shift deletion: later members of the probe run move up, so no tombstones.
  void unlink(size_t hole) {
    for (size_t i = (hole + 1) & mask();; i = (i + 1) & mask()) {
      uint64_t s = slots_[i];
      if (s == kEmpty) break;
      size_t h = home(s);
      // Movable when its home is not in (hole, i], cyclically.
      bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
      if (stays) continue;
      slots_[hole] = s;
      hole = i;
    }
    slots_[hole] = kEmpty;
  }

  void grow() {
    size_t n = slots_.empty() ? 16 : slots_.size() * 2;
    slots_.assign(n, kEmpty);
    for (uint32_t i = 0; i < items_.size(); ++i) {
      uint64_t h = hash(items_[i].first);
      size_t s = home(h);
      while (slots_[s] != kEmpty) s = (s + 1) & mask();
      slots_[s] = pack(i, h);
    }
  }

  std::vector<value_type> items_;
  std::vector<uint64_t> slots_;
};

}  // namespace anycastd::rib
