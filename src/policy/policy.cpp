#include "policy/policy.hpp"

#include <algorithm>

namespace anycastd::policy {

namespace {

bool prefix_contains(const Prefix& outer, const IpAddress& addr) {
  if (outer.family() != addr.family()) return false;
  return Prefix(addr, outer.length()) == outer;
}

template <typename T>
bool any_in(const std::vector<T>& wanted, const std::vector<T>& have) {
  for (const auto& w : wanted)
    if (std::find(have.begin(), have.end(), w) != have.end()) return true;
  return false;
}

template <typename T>
void add_unique(std::vector<T>& v, const std::vector<T>& add) {
  for (const auto& x : add)
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

template <typename T>
void remove_all(std::vector<T>& v, const std::vector<T>& gone) {
  v.erase(std::remove_if(
              v.begin(), v.end(),
              [&](const T& x) { return std::find(gone.begin(), gone.end(), x) != gone.end(); }),
          v.end());
}

}  // namespace

bool PrefixMatch::matches(const Prefix& p) const {
  if (p.family() != prefix.family() || p.length() < ge || p.length() > le) return false;
  if (p.length() < prefix.length()) return false;
  return Prefix(p.address(), prefix.length()) == prefix;
}

bool Match::empty() const {
  return prefixes.empty() && as_path_contains.empty() && !origin_as && !neighbour_as &&
         !as_path_length_min && !as_path_length_max && communities.empty() &&
         large_communities.empty() && next_hops.empty() && peers.empty();
}

bool matches(const Match& m, const Prefix& prefix, const bgp::PathAttributes& a,
             const Context& ctx) {
  if (!m.prefixes.empty() &&
      std::none_of(m.prefixes.begin(), m.prefixes.end(),
                   [&](const PrefixMatch& pm) { return pm.matches(prefix); }))
    return false;
  static const bgp::AsPath kEmpty;
  const bgp::AsPath& path = a.as_path ? *a.as_path : kEmpty;
  if (!m.as_path_contains.empty() &&
      std::none_of(m.as_path_contains.begin(), m.as_path_contains.end(),
                   [&](uint32_t asn) { return path.contains(asn); }))
    return false;
  if (m.origin_as && path.origin_asn() != m.origin_as) return false;
  if (m.neighbour_as && path.first_asn() != m.neighbour_as) return false;
  if (m.as_path_length_min && path.length() < *m.as_path_length_min) return false;
  if (m.as_path_length_max && path.length() > *m.as_path_length_max) return false;
  if (!m.communities.empty() && !any_in(m.communities, a.communities)) return false;
  if (!m.large_communities.empty() && !any_in(m.large_communities, a.large_communities))
    return false;
  if (!m.next_hops.empty()) {
    if (!a.next_hop) return false;
    if (std::none_of(m.next_hops.begin(), m.next_hops.end(),
                     [&](const Prefix& p) { return prefix_contains(p, *a.next_hop); }))
      return false;
  }
  if (!m.peers.empty() && std::find(m.peers.begin(), m.peers.end(), ctx.from_peer) == m.peers.end())
    return false;
  return true;
}

bool is_private_asn(uint32_t asn) {
  return (asn >= 64512 && asn <= 65534) || (asn >= 4200000000u && asn <= 4294967294u);
}

void apply(const Actions& x, bgp::PathAttributes& a, const Context& ctx) {
  if (!x.remove_asns.empty() || !x.replace_asns.empty() || x.remove_private_asns) {
    bgp::AsPath path = a.as_path.value_or(bgp::AsPath{});
    for (auto& seg : path.segments) {
      for (auto& asn : seg.asns)
        if (std::find(x.replace_asns.begin(), x.replace_asns.end(), asn) != x.replace_asns.end())
          asn = ctx.local_as;
      remove_all(seg.asns, x.remove_asns);
      if (x.remove_private_asns) std::erase_if(seg.asns, is_private_asn);
    }
    std::erase_if(path.segments, [](const bgp::AsSegment& s) { return s.asns.empty(); });
    a.as_path = std::move(path);
  }
  // Prepends run after removal so "remove 65515, prepend ours" reads as written.
  for (auto it = x.prepend.rbegin(); it != x.prepend.rend(); ++it) {
    if (!a.as_path) a.as_path = bgp::AsPath{};
    a.as_path->prepend(it->asn ? it->asn : ctx.local_as, it->count);
  }
  if (x.set_communities) a.communities = *x.set_communities;
  remove_all(a.communities, x.remove_communities);
  add_unique(a.communities, x.add_communities);
  if (x.set_large_communities) a.large_communities = *x.set_large_communities;
  remove_all(a.large_communities, x.remove_large_communities);
  add_unique(a.large_communities, x.add_large_communities);
  if (x.med) a.med = x.med;
  if (x.local_pref) a.local_pref = x.local_pref;
  if (x.next_hop) a.next_hop = x.next_hop;
  if (x.next_hop_self && ctx.self) a.next_hop = ctx.self;
}

bool evaluate(const Policy& p, const Prefix& prefix, bgp::PathAttributes& attrs,
              const Context& ctx) {
  for (const auto& t : p.terms) {
    if (!matches(t.match, prefix, attrs, ctx)) continue;
    apply(t.actions, attrs, ctx);
    if (t.actions.verdict == Actions::Verdict::accept) return true;
    if (t.actions.verdict == Actions::Verdict::reject) return false;
  }
  return p.default_accept;
}

Policy accept_all(std::string name) {
  return Policy{std::move(name), {}, true};
}
Policy reject_all(std::string name) {
  return Policy{std::move(name), {}, false};
}

}  // namespace anycastd::policy
