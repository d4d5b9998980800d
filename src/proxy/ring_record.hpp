#pragma once
// Which connection a record of a forwarding thread's ring is about. Pairs of sockmap slots
// are reused last-in first-out, and a record may still wait in the ring when its connection
// leaves the kernel path: it names the pair and the generation of the connection that made
// it, and acts only on that connection, never on the pair's next one.
#include <cstdint>
#include <vector>

#include "proxy/bpf/forward_shared.h"

namespace anycastd::proxy {

// Conn: has `dead` and an optional `kernel` with `generation`. Null when the record is stale.
template <class Conn>
Conn* ring_record_owner(const std::vector<Conn*>& by_pair, const forward_record& r) {
  const uint32_t pair = r.index / 2;
  if (pair >= by_pair.size()) return nullptr;
  Conn* c = by_pair[pair];
  if (!c || c->dead || !c->kernel || c->kernel->generation != r.generation) return nullptr;
  return c;
}

}  // namespace anycastd::proxy
