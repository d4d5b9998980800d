#pragma once
// The balancing table the address-translation program reads (nat_service.slots): slot ->
// backend. Pure, so that its layout is tested without a kernel. With `balance: maglev` it is
// Maglev's lookup table itself (a prime number of slots, NAT_SLOTS, each backend's
// permutation, weights honoured), so one backend coming or going moves about 1/N of the
// flows and two NVAs with the same backends agree on every flow; with round robin, slots
// interleaved by smooth weighted round robin, taken in turn.
#include <cstdint>
#include <span>
#include <vector>

#include "proxy/balancer.hpp"
#include "proxy/service_config.hpp"

namespace anycastd::proxy {

// Empty when no backend is usable (new flows then go to the service's socket).
std::vector<uint8_t> nat_slots(const ServiceConfig& cfg, std::span<const BackendView> backends);

}  // namespace anycastd::proxy
