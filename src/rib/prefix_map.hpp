#pragma once
// A hash map from prefix to value for the routing tables: values live densely in one
// vector (a full table walk is a linear scan, and a million entries cost no million heap
// nodes), found through an open-addressing index of 8-byte slots, each holding the entry's
// position and the upper half of its hash (which also picks its home slot), so a probe
// rarely touches a wrong entry and deletion never needs to rehash one.
//
// Keys are 8 bytes: an IPv4 prefix is held whole, an IPv6 one as the index of its copy
// in a side table (a Prefix is 18 bytes, 24 with padding, and a full table is IPv4).
// Iterators therefore yield {prefix, value&} by value rather than a stored pair.
//
// An entry keeps its position for as long as it lives (an erased one leaves a hole that
// the next insert fills), so per-peer state can be a bit per position rather than a map
// of its own. Pointers last until the next insert (the vector may grow); positions last
// until the entry is erased.
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

#include "core/hash.hpp"
#include "rib/huge_allocator.hpp"
#include "rib/linear_probe.hpp"

namespace anycastd::rib {

template <class V>
class PrefixMap {
  struct Item {
    uint64_t key;
    V value;
  };

 public:
  template <class Value>
  struct Ref {
    Prefix first;
    Value& second;
  };
  template <class Value>
  struct Arrow {
    Ref<Value> r;
    const Ref<Value>* operator->() const { return &r; }
  };

  template <class Map, class Value>
  class Iter {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Ref<Value>;
    using difference_type = std::ptrdiff_t;
    using pointer = Arrow<Value>;
    using reference = Ref<Value>;

    Iter() = default;
    Iter(Map* m, uint32_t pos) : m_(m), pos_(pos) { skip(); }
    Ref<Value> operator*() const { return m_->at(pos_); }
    Arrow<Value> operator->() const { return {m_->at(pos_)}; }
    Iter& operator++() {
      ++pos_;
      skip();
      return *this;
    }
    Iter operator++(int) {
      Iter t = *this;
      ++*this;
      return t;
    }
    bool operator==(const Iter& o) const { return pos_ == o.pos_; }
    uint32_t position() const { return pos_; }

   private:
    void skip() {
      while (pos_ < m_->items_.size() && !m_->live(pos_)) ++pos_;
    }
    Map* m_ = nullptr;
    uint32_t pos_ = 0;
  };
  using iterator = Iter<PrefixMap, V>;
  using const_iterator = Iter<const PrefixMap, const V>;

  iterator begin() { return {this, 0}; }
  iterator end() { return {this, static_cast<uint32_t>(items_.size())}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, static_cast<uint32_t>(items_.size())}; }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Positions run from 0 to positions() - 1; some are holes.
  uint32_t positions() const { return static_cast<uint32_t>(items_.size()); }
  bool live(uint32_t pos) const { return (live_[pos / 64] >> (pos % 64)) & 1; }
  Ref<V> at(uint32_t pos) { return {prefix_of(items_[pos].key), items_[pos].value}; }
  Ref<const V> at(uint32_t pos) const { return {prefix_of(items_[pos].key), items_[pos].value}; }
  // Without decoding the prefix.
  V& value_at(uint32_t pos) { return items_[pos].value; }
  const V& value_at(uint32_t pos) const { return items_[pos].value; }
  Prefix prefix_at(uint32_t pos) const { return prefix_of(items_[pos].key); }

  // Starts loading the index slot where `p` would be: a batch of lookups whose slots were
  // all requested first waits for memory once rather than once per lookup.
  void prefetch(const Prefix& p) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(hash(p))]);
  }

  // The second stage, once the slot is in cache: starts loading the entry it points to.
  void prefetch_entry(const Prefix& p) const {
    if (slots_.empty()) return;
    uint64_t h = hash(p);
    uint64_t tag = h & kTagMask;
    for (size_t i = home(h), n = 0; n < 4; i = (i + 1) & mask(), ++n) {
      uint64_t s = slots_[i];
      if (s == kEmpty) return;
      if ((s & kTagMask) == tag) return __builtin_prefetch(&items_[index(s)]);
    }
  }

  iterator find(const Prefix& p) { return {this, find_position(p)}; }
  const_iterator find(const Prefix& p) const { return {this, find_position(p)}; }

  template <class... Args>
  std::pair<iterator, bool> try_emplace(const Prefix& p, Args&&... args) {
    if ((count_ + 1) * 4 > slots_.size() * 3) grow();
    uint64_t h = hash(p);
    auto [slot, found] = locate(p, h);
    if (found) return {iterator(this, index(slots_[slot])), false};
    uint64_t key = make_key(p);
    uint32_t pos;
    if (!free_.empty()) {
      pos = free_.back();
      free_.pop_back();
      items_[pos] = Item{key, V(std::forward<Args>(args)...)};
    } else {
      pos = static_cast<uint32_t>(items_.size());
      items_.push_back(Item{key, V(std::forward<Args>(args)...)});
      if (live_.size() * 64 < items_.size()) live_.push_back(0);
    }
    live_[pos / 64] |= uint64_t{1} << (pos % 64);
    slots_[slot] = pack(pos, h);
    ++count_;
    return {iterator(this, pos), true};
  }
  std::pair<iterator, bool> emplace(const Prefix& p, V v) { return try_emplace(p, std::move(v)); }
  V& operator[](const Prefix& p) { return items_[try_emplace(p).first.position()].value; }

  void erase(iterator it) {
    uint32_t pos = it.position();
    erase_slot(slots_, slot_of(pos), kEmpty, [this](uint64_t s) { return home(s); });
    if (!is_v4(items_[pos].key)) v6_free_.push_back(v6_index(items_[pos].key));
    items_[pos].value = V{};  // what the value holds is released now, not on reuse
    live_[pos / 64] &= ~(uint64_t{1} << (pos % 64));
    if (--count_ == 0) {
      clear();
      return;
    }
    free_.push_back(pos);
  }
  size_t erase(const Prefix& p) {
    auto it = find(p);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }
  void clear() {
    decltype(items_)().swap(items_);
    decltype(slots_)().swap(slots_);
    std::vector<uint64_t>().swap(live_);
    std::vector<uint32_t>().swap(free_);
    std::vector<Prefix>().swap(v6_);
    std::vector<uint32_t>().swap(v6_free_);
    count_ = 0;
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static constexpr uint64_t kTagMask = 0xFFFFFFFF00000000ULL;  // the hash half a slot keeps

  // v4: address << 32 | length << 8 | 4; v6: side-table index << 8 | 6.
  static bool is_v4(uint64_t key) { return (key & 0xFF) == 4; }
  static uint32_t v6_index(uint64_t key) { return static_cast<uint32_t>(key >> 8); }
  static uint64_t v4_key(const Prefix& p) {
    return (uint64_t{p.address().v4_value()} << 32) | (uint64_t{p.length()} << 8) | 4;
  }
  uint64_t make_key(const Prefix& p) {
    if (p.family() == Family::v4) return v4_key(p);
    uint32_t i;
    if (!v6_free_.empty()) {
      i = v6_free_.back();
      v6_free_.pop_back();
      v6_[i] = p;
    } else {
      i = static_cast<uint32_t>(v6_.size());
      v6_.push_back(p);
    }
    return (uint64_t{i} << 8) | 6;
  }
  Prefix prefix_of(uint64_t key) const {
    if (is_v4(key))
      return Prefix(IpAddress::v4(static_cast<uint32_t>(key >> 32)),
                    static_cast<uint8_t>((key >> 8) & 0xFF));
    return v6_[v6_index(key)];
  }

  // Hashed from the key where it holds the whole prefix, so rehashing never decodes one.
  static uint64_t hash(const Prefix& p) {
    return p.family() == Family::v4 ? hash_mix(0, v4_key(p)) : std::hash<Prefix>{}(p);
  }
  uint64_t hash_key(uint64_t key) const {
    return is_v4(key) ? hash_mix(0, key) : std::hash<Prefix>{}(v6_[v6_index(key)]);
  }
  // The slot pointing at a live position (keys are unique, so the key alone finds it).
  size_t slot_of(uint32_t pos) const {
    uint64_t h = hash_key(items_[pos].key);
    for (size_t i = home(h);; i = (i + 1) & mask())
      if (slots_[i] != kEmpty && index(slots_[i]) == pos) return i;
  }
  static uint32_t index(uint64_t slot) { return static_cast<uint32_t>(slot); }
  static uint64_t pack(uint32_t index, uint64_t hash) { return (hash & kTagMask) | index; }
  size_t mask() const { return slots_.size() - 1; }
  size_t home(uint64_t hash_or_slot) const { return (hash_or_slot >> 32) & mask(); }

  uint32_t find_position(const Prefix& p) const {
    if (count_ == 0) return positions();
    auto [slot, found] = locate(p, hash(p));
    return found ? index(slots_[slot]) : positions();
  }

  // The slot holding `p`, or the empty slot where it would go.
  std::pair<size_t, bool> locate(const Prefix& p, uint64_t h) const {
    uint64_t tag = h & kTagMask;
    const bool v4 = p.family() == Family::v4;
    const uint64_t want = v4 ? v4_key(p) : 0;
    for (size_t i = home(h);; i = (i + 1) & mask()) {
      uint64_t s = slots_[i];
      if (s == kEmpty) return {i, false};
      if ((s & kTagMask) != tag) continue;
      uint64_t key = items_[index(s)].key;
      if (v4 ? key == want : !is_v4(key) && v6_[v6_index(key)] == p) return {i, true};
    }
  }

  // A slot keeps the upper half of its entry's hash, which is all a home needs: growing
  // re-places slots without touching an entry or hashing a key.
  void grow() {
    decltype(slots_) old(slots_.empty() ? 16 : slots_.size() * 2, kEmpty);
    old.swap(slots_);
    for (uint64_t s : old) {
      if (s == kEmpty) continue;
      size_t i = home(s);
      while (slots_[i] != kEmpty) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  std::vector<Item, HugeAllocator<Item>> items_;
  std::vector<uint64_t, HugeAllocator<uint64_t>> slots_;
  std::vector<uint64_t> live_;  // a bit per position
  std::vector<uint32_t> free_;  // holes, refilled last-freed first
  std::vector<Prefix> v6_;      // the IPv6 keys
  std::vector<uint32_t> v6_free_;
  size_t count_ = 0;
};

}  // namespace anycastd::rib
