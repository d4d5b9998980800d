#pragma once
// Import and export policies: ordered terms, each a match and a set of actions. Pure: a
// policy rewrites a copy of the attributes and says accept or reject.
#include <optional>
#include <string>
#include <vector>

#include "wire/message.hpp"

namespace anycastd::policy {

// `prefix` with a length in [ge, le]; exact when ge == le == prefix length.
struct PrefixMatch {
  Prefix prefix;
  uint8_t ge = 0;
  uint8_t le = 0;
  bool matches(const Prefix& p) const;
  static PrefixMatch exact(const Prefix& p) { return {p, p.length(), p.length()}; }
  bool operator==(const PrefixMatch&) const = default;
};

// Every condition that is set must hold; a list condition holds when any element does.
struct Match {
  std::vector<PrefixMatch> prefixes;
  std::vector<uint32_t> as_path_contains;
  std::optional<uint32_t> origin_as;     // last ASN of the path (who originated it)
  std::optional<uint32_t> neighbour_as;  // first ASN of the path
  std::optional<size_t> as_path_length_min, as_path_length_max;
  std::vector<uint32_t> communities;
  std::vector<bgp::LargeCommunity> large_communities;
  std::vector<Prefix> next_hops;  // next hop inside any of these
  std::vector<IpAddress> peers;
  bool empty() const;
  bool operator==(const Match&) const = default;
};

struct Prepend {
  uint32_t asn = 0;  // 0: the local ASN
  uint32_t count = 1;
  bool operator==(const Prepend&) const = default;
};

struct Actions {
  std::vector<Prepend> prepend;
  std::vector<uint32_t> remove_asns;   // drop these ASNs from the path
  std::vector<uint32_t> replace_asns;  // as-override: these ASNs become the local ASN
  // Drops private ASNs (RFC 6996), as ExpressRoute's edge does toward the customer.
  bool remove_private_asns = false;
  std::optional<std::vector<uint32_t>> set_communities;
  std::vector<uint32_t> add_communities, remove_communities;
  std::optional<std::vector<bgp::LargeCommunity>> set_large_communities;
  std::vector<bgp::LargeCommunity> add_large_communities, remove_large_communities;
  std::optional<uint32_t> med;
  std::optional<uint32_t> local_pref;
  bool next_hop_self = false;
  std::optional<IpAddress> next_hop;
  enum class Verdict { none, accept, reject } verdict = Verdict::none;
  bool operator==(const Actions&) const = default;
};

struct Term {
  std::string name;
  Match match;
  Actions actions;
  bool operator==(const Term&) const = default;
};

// Terms run in order; a matching term applies its actions, and a term with a verdict ends
// the evaluation. Falling off the end applies `default_accept`.
struct Policy {
  std::string name;
  std::vector<Term> terms;
  bool default_accept = false;
  bool operator==(const Policy&) const = default;
};

// What a policy can see besides the route.
struct Context {
  uint32_t local_as = 0;
  std::optional<IpAddress> self;  // next hop for next-hop-self
  IpAddress from_peer;            // the peer the route was learned from (matches `peers`)
};

// 64512-65534 and 4200000000-4294967294 (RFC 6996).
bool is_private_asn(uint32_t asn);

bool matches(const Match& m, const Prefix& prefix, const bgp::PathAttributes& attrs,
             const Context& ctx);
void apply(const Actions& a, bgp::PathAttributes& attrs, const Context& ctx);
// True when the route is accepted; `attrs` then holds the rewritten attributes.
bool evaluate(const Policy& p, const Prefix& prefix, bgp::PathAttributes& attrs,
              const Context& ctx);

// The policy every VIP is exported by when the operator gives none, and the RFC 8212
// default for a peer without one: accept nothing.
Policy accept_all(std::string name = "accept-all");
Policy reject_all(std::string name = "reject-all");

}  // namespace anycastd::policy
