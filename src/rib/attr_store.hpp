#pragma once
// Interned path attributes: a full table has a million routes but only tens of thousands
// of distinct attribute sets, so each distinct set is stored once and routes share it.
// Pointer equality of two interned sets is attribute equality, which is what lets the
// outbound side group prefixes per attribute set without comparing attributes.
#include <memory>

#include "bgp/wire/message.hpp"

namespace anycastd::rib {

using Attrs = std::shared_ptr<const bgp::PathAttributes>;

size_t hash_attributes(const bgp::PathAttributes& a);

class AttrStore {
 public:
  AttrStore();
  ~AttrStore();
  AttrStore(const AttrStore&) = delete;
  AttrStore& operator=(const AttrStore&) = delete;

  // The shared copy of `a`. Sets are released when the last route holding them goes.
  Attrs intern(bgp::PathAttributes a);
  size_t size() const;

 private:
  struct Table;
  // Shared with every set's deleter, so a set outliving the store frees itself safely.
  std::shared_ptr<Table> table_;
};

}  // namespace anycastd::rib
