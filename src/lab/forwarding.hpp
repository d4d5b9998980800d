#pragma once
// What both labs' request forwarding shares: prefix containment and the flow hash that
// spreads flows over equal paths (the same flow picks the same path in sim and live).
#include <cstdint>

#include "core/ip.hpp"

namespace anycastd::lab {

bool contains(const Prefix& p, const IpAddress& a);
uint64_t flow_hash(uint64_t flow, const IpAddress& at);

}  // namespace anycastd::lab
