#include "proxy/nat_slots.hpp"

#include "proxy/bpf/nat_shared.h"
#include "proxy/maglev.hpp"

namespace anycastd::proxy {

std::vector<uint8_t> nat_slots(const ServiceConfig& cfg, std::span<const BackendView> backends) {
  std::vector<uint8_t> out;
  if (cfg.balance == Balance::maglev) {
    MaglevTable table(backends, NAT_SLOTS);
    if (table.size() == 0) return out;
    out.reserve(NAT_SLOTS);
    for (uint32_t b : table.slots()) out.push_back(static_cast<uint8_t>(b));
    return out;
  }
  // The threads' smooth weighted round robin lays out the slots: each backend gets slots in
  // proportion to its weight, interleaved, so that taking them in turn alternates as the
  // threads do.
  auto turns = make_balancer(Balance::round_robin, cfg.hash, backends);
  out.reserve(NAT_SLOTS);
  for (auto b = turns->pick({}); b && out.size() < NAT_SLOTS; b = turns->pick({}))
    out.push_back(static_cast<uint8_t>(*b));
  if (out.size() < NAT_SLOTS) out.clear();
  return out;
}

}  // namespace anycastd::proxy
