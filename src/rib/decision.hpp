#pragma once
// The BGP decision process (RFC 4271 §9.1.2) as a comparison of two paths, so each step
// is unit-testable and `show routes` can say which step chose the best path.
#include <string_view>
#include <vector>

#include "rib/path.hpp"

namespace anycastd::rib {

// Final tie-breaks, applied in the configured order once every RFC step is equal. The
// MSEE of seed 001 is {lowest_next_hop}; a Cisco-like router is {oldest, router_id,
// peer_address}.
enum class TieBreak { oldest, router_id, lowest_next_hop, peer_address };

struct DecisionConfig {
  bool always_compare_med = false;
  // Azure Route Server compares only the AS path between NVAs: MED never decides.
  bool ignore_med = false;
  std::vector<TieBreak> tie_breaks{TieBreak::router_id, TieBreak::peer_address};
  size_t multipath = 1;  // equal best paths kept (ECMP); 1 = no ECMP
};

// Which step decided a comparison, in the order the steps run.
enum class Step {
  weight,
  local_pref,
  locally_originated,
  as_path_length,
  origin,
  med,
  ebgp_over_ibgp,
  oldest,
  router_id,
  lowest_next_hop,
  peer_address,
  equal,
};
std::string_view to_string(Step s);
std::optional<TieBreak> parse_tie_break(std::string_view name);
std::string_view to_string(TieBreak t);

struct Verdict {
  int order = 0;  // < 0: a is better, > 0: b is better, 0: equal on every step
  Step step = Step::equal;
};

// `multipath_only` stops before the final tie-breaks: paths equal up to there are equal
// cost for ECMP.
Verdict compare(const Path& a, const Neighbour& na, const Path& b, const Neighbour& nb,
                const DecisionConfig& cfg, bool multipath_only = false);

}  // namespace anycastd::rib
