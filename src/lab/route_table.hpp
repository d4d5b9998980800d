#pragma once
// Loc-RIB rendered as `az network express-route list-route-tables -o table` prints it, so
// the lab's MSEE tables can be compared line by line with the seeds'.
#include <array>
#include <string>
#include <vector>

#include "rib/rib.hpp"

namespace anycastd::lab {

// Paths of one entry, most preferred first.
std::vector<const rib::Path*> ranked(const rib::Rib& rib, const rib::Entry& e);

// Every prefix in address order, each path a row, `*` after each chosen next hop (every one
// of an ECMP set).
std::string az_route_table(const rib::Rib& rib);

// LocPrf, Network, NextHop, Path, Weight rows laid out as the CLI does (a header first).
using AzRow = std::array<std::string, 5>;
std::string az_table(const std::vector<AzRow>& rows);

}  // namespace anycastd::lab
