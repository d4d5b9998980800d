#include "rib/attr_store.hpp"

#include <unordered_set>

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

struct AttrNode {
  bgp::PathAttributes attrs;
  size_t hash;
  AttrStore::Table* table;  // nullptr: a standalone set
  uint32_t refs = 0;
};

namespace {
struct NodeHash {
  using is_transparent = void;
  size_t operator()(const AttrNode* n) const { return n->hash; }
  size_t operator()(const bgp::PathAttributes* a) const { return hash_attributes(*a); }
};
struct NodeEq {
  using is_transparent = void;
  bool operator()(const AttrNode* a, const AttrNode* b) const { return a == b; }
  bool operator()(const bgp::PathAttributes* a, const AttrNode* b) const { return *a == b->attrs; }
  bool operator()(const AttrNode* a, const bgp::PathAttributes* b) const { return a->attrs == *b; }
};
}  // namespace

struct AttrStore::Table {
  std::unordered_set<AttrNode*, NodeHash, NodeEq> sets;
  bool store_alive = true;
};

const bgp::PathAttributes* Attrs::get() const {
  return n_ ? &n_->attrs : nullptr;
}

void Attrs::ref() const {
  if (n_) ++n_->refs;
}

void Attrs::unref() {
  if (!n_ || --n_->refs > 0) return;
  if (AttrStore::Table* t = n_->table) {
    t->sets.erase(n_);
    if (!t->store_alive && t->sets.empty()) delete t;
  }
  delete n_;
  n_ = nullptr;
}

Attrs Attrs::standalone(bgp::PathAttributes a) {
  return Attrs(new AttrNode{std::move(a), 0, nullptr});
}

AttrStore::AttrStore() : table_(new Table) {}

AttrStore::~AttrStore() {
  // Sets still held elsewhere keep the table until the last one goes.
  if (table_->sets.empty())
    delete table_;
  else
    table_->store_alive = false;
}

Attrs AttrStore::intern(bgp::PathAttributes a) {
  auto it = table_->sets.find(&a);
  if (it != table_->sets.end()) return Attrs(*it);
  size_t h = hash_attributes(a);
  auto* n = new AttrNode{std::move(a), h, table_};
  table_->sets.insert(n);
  return Attrs(n);
}

size_t AttrStore::size() const {
  return table_->sets.size();
}

}  // namespace anycastd::rib
