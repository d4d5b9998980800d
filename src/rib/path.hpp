#pragma once
// One candidate route for a prefix, and what the decision process needs to know about the
// neighbour it came from.
#include <cstdint>

#include "rib/attr_store.hpp"

namespace anycastd::rib {

using PeerId = uint32_t;
inline constexpr PeerId kLocal = 0;  // locally originated routes

struct Neighbour {
  IpAddress address;  // unspecified for kLocal
  uint32_t asn = 0;
  uint32_t router_id = 0;
  bool ibgp = false;
  bool local = false;
};

// 24 bytes: a full table holds a million of them.
struct Path {
  PeerId peer = kLocal;
  uint32_t weight = 0;
  Attrs attrs;  // after import policy; attrs->next_hop is the route's next hop (any family)
  uint64_t arrival : 62 = 0;  // order of arrival in this RIB: lower is older
  bool best : 1 = false;
  bool multipath : 1 = false;  // one of the equal best paths kept for ECMP (best included)
};

}  // namespace anycastd::rib
