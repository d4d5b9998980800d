#pragma once
// The proxy an NVA runs in the lab, the same in sim, live and netns: its own services,
// else one per client port on the NVA's address to the region's backends, each backend
// gated by the checks aimed at it. Addresses are the topology's; live mode maps them.
#include "lab/sim_node.hpp"

namespace anycastd::lab {

proxy::ProxyConfig nva_proxy(const Topology& t, const SimLab::Node& n);

}  // namespace anycastd::lab
