#pragma once
// Interned path attributes: a full table has a million routes but only tens of thousands
// of distinct attribute sets, so each distinct set is stored once and routes share it.
// Pointer equality of two interned sets is attribute equality, which is what lets the
// outbound side group prefixes per attribute set without comparing attributes.
//
// A route holds its set through `Attrs`, an 8-byte counted pointer (a shared_ptr would
// be 16 bytes per route and a separate control block per set).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "wire/message.hpp"

namespace anycastd::rib {

size_t hash_attributes(const bgp::PathAttributes& a);

struct AttrNode;

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::nullptr_t) {}  // NOLINT: converts like a smart pointer
  Attrs(const Attrs& o) : n_(o.n_) { ref(); }
  Attrs(Attrs&& o) noexcept : n_(o.n_) { o.n_ = nullptr; }
  Attrs& operator=(Attrs o) noexcept {
    std::swap(n_, o.n_);
    return *this;
  }
  ~Attrs() { unref(); }

  // A set of its own, outside any store (tests, one-off exports).
  static Attrs standalone(bgp::PathAttributes a);

  const bgp::PathAttributes* get() const;
  const bgp::PathAttributes& operator*() const { return *get(); }
  const bgp::PathAttributes* operator->() const { return get(); }
  explicit operator bool() const { return n_ != nullptr; }
  bool operator==(const Attrs& o) const { return n_ == o.n_; }
  bool operator==(std::nullptr_t) const { return n_ == nullptr; }

 private:
  friend class AttrStore;
  explicit Attrs(AttrNode* n) : n_(n) { ref(); }
  void ref() const;
  void unref();
  AttrNode* n_ = nullptr;
};

class AttrStore {
 public:
  AttrStore();
  ~AttrStore();
  AttrStore(const AttrStore&) = delete;
  AttrStore& operator=(const AttrStore&) = delete;

  // The shared copy of `a`. Sets are released when the last route holding them goes.
  Attrs intern(bgp::PathAttributes a);
  size_t size() const;

  struct Table;

 private:
  // Outlives the store while sets remain, so a set held past the store frees safely.
  Table* table_;
};

}  // namespace anycastd::rib
