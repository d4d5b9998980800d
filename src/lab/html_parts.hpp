#pragma once
// The report's drawings, apart from the page around them.
#include <map>
#include <string>
#include <vector>

#include "lab/scenario_run.hpp"

namespace anycastd::lab {

std::string esc(const std::string& s);

// One colour per region, every one distinct and none near the colour of a lost request.
std::vector<std::string> region_colours(size_t n);
constexpr const char* kLostColour = "#d62728";

// The topology as it stood at `step` (nullptr: as the file builds it): each NVA's AS path at
// its route servers, the gateway instance the MSEE prefers for a client's target, each
// backend's state. Regions wrap into rows so that any number fits the page's width.
std::string topology_svg(const Topology& t, const Scenario* s, const StepRecord* step,
                         const std::map<std::string, std::string>& colour);

// Every request a mark on its client's row, coloured by the region that answered; lost ones
// drawn taller and counted, so that one lost request shows however thin its slice.
std::string timeline_svg(const RunResult& r, const std::map<std::string, std::string>& colour);

}  // namespace anycastd::lab
