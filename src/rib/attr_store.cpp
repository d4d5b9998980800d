#include "rib/attr_store.hpp"

#include <unordered_map>

#include "core/hash.hpp"

namespace anycastd::rib {

size_t hash_attributes(const bgp::PathAttributes& a) {
  size_t h = hash_mix(0, a.origin.value_or(0xFF));
  if (a.as_path) {
    for (const auto& seg : a.as_path->segments) {
      h = hash_mix(h, seg.type);
      for (uint32_t asn : seg.asns) h = hash_mix(h, asn);
    }
  }
  if (a.next_hop) h = hash_mix(h, std::hash<IpAddress>{}(*a.next_hop));
  h = hash_mix(h, a.med ? uint64_t{*a.med} + 1 : 0);
  h = hash_mix(h, a.local_pref ? uint64_t{*a.local_pref} + 1 : 0);
  h = hash_mix(h, a.atomic_aggregate);
  if (a.aggregator) h = hash_mix(h, a.aggregator->asn);
  for (uint32_t c : a.communities) h = hash_mix(h, c);
  for (const auto& c : a.large_communities)
    h = hash_mix(hash_mix(hash_mix(h, c.global), c.local1), c.local2);
  for (const auto& u : a.unknown)
    h = hash_bytes(hash_mix(h, u.type), reinterpret_cast<const uint8_t*>(u.value.data()),
                   u.value.size());
  return h;
}

namespace {
struct PtrHash {
  using is_transparent = void;
  size_t operator()(const bgp::PathAttributes* p) const { return hash_attributes(*p); }
};
struct PtrEq {
  using is_transparent = void;
  bool operator()(const bgp::PathAttributes* a, const bgp::PathAttributes* b) const {
    return a == b || *a == *b;
  }
};
}  // namespace

struct AttrStore::Table {
  std::unordered_map<const bgp::PathAttributes*, std::weak_ptr<const bgp::PathAttributes>, PtrHash,
                     PtrEq>
      sets;
};

AttrStore::AttrStore() : table_(std::make_shared<Table>()) {}
AttrStore::~AttrStore() = default;

Attrs AttrStore::intern(bgp::PathAttributes a) {
  auto it = table_->sets.find(&a);
  // A set stays in the table exactly while it has owners: its deleter erases it, so the
  // lock cannot fail on this single-threaded path.
  if (it != table_->sets.end()) return it->second.lock();
  auto* raw = new bgp::PathAttributes(std::move(a));
  Attrs owned(raw, [t = std::weak_ptr<Table>(table_)](const bgp::PathAttributes* p) {
    if (auto table = t.lock()) table->sets.erase(p);
    delete p;
  });
  table_->sets.emplace(raw, owned);
  return owned;
}

size_t AttrStore::size() const {
  return table_->sets.size();
}

}  // namespace anycastd::rib
