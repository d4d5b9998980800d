#include "rib/decision.hpp"

namespace anycastd::rib {

namespace {

constexpr uint32_t kDefaultLocalPref = 100;

std::optional<uint32_t> first_as(const bgp::PathAttributes& a) {
  return a.as_path ? a.as_path->first_asn() : std::nullopt;
}

size_t path_length(const bgp::PathAttributes& a) {
  return a.as_path ? a.as_path->length() : 0;
}

// Lower wins: returns -1 when a wins, 1 when b wins.
template <typename T>
int lower(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

std::string_view to_string(Step s) {
  switch (s) {
    case Step::weight:
      return "weight";
    case Step::local_pref:
      return "local-pref";
    case Step::locally_originated:
      return "locally-originated";
    case Step::as_path_length:
      return "as-path-length";
    case Step::origin:
      return "origin";
    case Step::med:
      return "med";
    case Step::ebgp_over_ibgp:
      return "ebgp-over-ibgp";
    case Step::oldest:
      return "oldest";
    case Step::router_id:
      return "router-id";
    case Step::lowest_next_hop:
      return "lowest-next-hop";
    case Step::peer_address:
      return "peer-address";
    case Step::equal:
      return "equal";
  }
  return "?";
}

std::string_view to_string(TieBreak t) {
  switch (t) {
    case TieBreak::oldest:
      return "oldest";
    case TieBreak::router_id:
      return "router-id";
    case TieBreak::lowest_next_hop:
      return "lowest-next-hop";
    case TieBreak::peer_address:
      return "peer-address";
  }
  return "?";
}

std::optional<TieBreak> parse_tie_break(std::string_view name) {
  for (auto t :
       {TieBreak::oldest, TieBreak::router_id, TieBreak::lowest_next_hop, TieBreak::peer_address})
    if (to_string(t) == name) return t;
  return std::nullopt;
}

Verdict compare(const Path& a, const Neighbour& na, const Path& b, const Neighbour& nb,
                const DecisionConfig& cfg, bool multipath_only) {
  const auto& x = *a.attrs;
  const auto& y = *b.attrs;
  auto decide = [](int order, Step step) { return Verdict{order, step}; };

  if (int o = lower(b.weight, a.weight)) return decide(o, Step::weight);
  if (int o =
          lower(y.local_pref.value_or(kDefaultLocalPref), x.local_pref.value_or(kDefaultLocalPref)))
    return decide(o, Step::local_pref);
  if (int o = lower(!na.local, !nb.local)) return decide(o, Step::locally_originated);
  if (int o = lower(path_length(x), path_length(y))) return decide(o, Step::as_path_length);
  if (int o = lower(x.origin.value_or(bgp::kOriginIncomplete),
                    y.origin.value_or(bgp::kOriginIncomplete)))
    return decide(o, Step::origin);
  // RFC 4271 §9.1.2.2 (c): MED only between routes from the same neighbouring AS; a
  // missing MED is the lowest value (RFC 4271 §5.1.4 leaves it to the implementation, and
  // BIRD, FRR and GoBGP all read it as 0).
  if (!cfg.ignore_med && (cfg.always_compare_med || first_as(x) == first_as(y))) {
    if (int o = lower(x.med.value_or(0), y.med.value_or(0))) return decide(o, Step::med);
  }
  if (int o = lower(na.ibgp, nb.ibgp)) return decide(o, Step::ebgp_over_ibgp);
  if (multipath_only) return {};

  for (TieBreak t : cfg.tie_breaks) {
    switch (t) {
      case TieBreak::oldest:
        if (int o = lower(a.arrival, b.arrival)) return decide(o, Step::oldest);
        break;
      case TieBreak::router_id:
        // RFC 4456 §9: a reflected route competes with its originator's id, and then the
        // shorter CLUSTER_LIST wins.
        if (int o = lower(x.originator_id.value_or(na.router_id),
                          y.originator_id.value_or(nb.router_id)))
          return decide(o, Step::router_id);
        if (int o = lower(x.cluster_list.size(), y.cluster_list.size()))
          return decide(o, Step::router_id);
        break;
      case TieBreak::lowest_next_hop:
        if (x.next_hop && y.next_hop)
          if (int o = lower(*x.next_hop, *y.next_hop)) return decide(o, Step::lowest_next_hop);
        break;
      case TieBreak::peer_address:
        if (int o = lower(na.address, nb.address)) return decide(o, Step::peer_address);
        break;
    }
  }
  return {};
}

}  // namespace anycastd::rib
