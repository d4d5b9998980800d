#pragma once
// Loc-RIB rendered as `az network express-route list-route-tables -o table` prints it, so
// the lab's MSEE tables can be compared line by line with the seeds'.
#include <string>
#include <vector>

#include "rib/rib.hpp"

namespace anycastd::lab {

// Paths of one entry, most preferred first.
std::vector<const rib::Path*> ranked(const rib::Rib& rib, const rib::Entry& e);

// An MSEE's Loc-RIB as `az network express-route list-route-tables -o table` prints it:
// the lab's MSEE table (build_table) for a RIB on its own.
std::string az_route_table(const rib::Rib& rib);

}  // namespace anycastd::lab
