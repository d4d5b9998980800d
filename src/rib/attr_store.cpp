#include "rib/attr_store.hpp"

#include <vector>

#include "core/hash.hpp"
#include "rib/linear_probe.hpp"

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

// Open addressing over node pointers (each node keeps its hash): no allocation per set
// beyond the node itself, and a probe compares hashes before attributes.
struct AttrStore::Table {
  std::vector<AttrNode*> slots;
  size_t count = 0;
  bool store_alive = true;

  size_t mask() const { return slots.size() - 1; }

  AttrNode* find(const bgp::PathAttributes& a, size_t h) const {
    if (slots.empty()) return nullptr;
    for (size_t i = h & mask();; i = (i + 1) & mask()) {
      AttrNode* n = slots[i];
      if (!n) return nullptr;
      if (n->hash == h && n->attrs == a) return n;
    }
  }
  void place(AttrNode* n) {
    size_t i = n->hash & mask();
    while (slots[i]) i = (i + 1) & mask();
    slots[i] = n;
  }
  void insert(AttrNode* n) {
    if ((count + 1) * 2 > slots.size()) {
      std::vector<AttrNode*> old(slots.empty() ? 64 : slots.size() * 2, nullptr);
      old.swap(slots);
      for (AttrNode* o : old)
        if (o) place(o);
    }
    place(n);
    ++count;
  }
  void erase(AttrNode* n) {
    size_t hole = n->hash & mask();
    while (slots[hole] != n) hole = (hole + 1) & mask();
    erase_slot(slots, hole, static_cast<AttrNode*>(nullptr),
               [this](const AttrNode* m) { return m->hash & mask(); });
    --count;
  }
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
    t->erase(n_);
    if (!t->store_alive && t->count == 0) delete t;
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
  if (table_->count == 0)
    delete table_;
  else
    table_->store_alive = false;
}

Attrs AttrStore::intern(bgp::PathAttributes a) {
  size_t h = hash_attributes(a);
  if (AttrNode* found = table_->find(a, h)) return Attrs(found);
  auto* n = new AttrNode{std::move(a), h, table_};
  table_->insert(n);
  return Attrs(n);
}

size_t AttrStore::size() const {
  return table_->count;
}

}  // namespace anycastd::rib
