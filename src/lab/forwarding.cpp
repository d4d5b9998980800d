// The data plane of the simulated lab: a request walks from the client's router through
// each device's Loc-RIB (ECMP by a flow hash where the device has equal paths), through
// the hub's VNet routes (what its route servers program), to an NVA's proxy or a spoke's
// application. A crashed device on the way is a black hole; an NVA with no backend in
// rotation, or a failed application, answers an error.
#include <algorithm>

#include "lab/sim_node.hpp"

namespace anycastd::lab {

namespace {

bool contains(const Prefix& p, const IpAddress& a) {
  return p.family() == a.family() && Prefix(a, p.length()) == p;
}

uint64_t mix(uint64_t flow, const IpAddress& at) {
  uint64_t h = flow * 0x9E3779B97F4A7C15ull ^ (at.is_v4() ? at.v4_value() : 0);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace

// The longest match, then among equal paths (the multipath set) one per flow.
const rib::Path* SimLab::route(const Node& n, const IpAddress& dst, uint64_t flow) const {
  if (!n.speaker) return nullptr;
  const auto& rib = n.speaker->rib();
  const rib::Entry* e = rib.find(Prefix(dst, dst.is_v4() ? 32 : 128));
  if (!e || !e->best()) {
    const Prefix* longest = nullptr;
    for (const auto& [p, entry] : rib.loc_rib()) {
      if (!entry.best() || !contains(p, dst)) continue;
      if (!longest || p.length() > longest->length()) {
        longest = &p;
        e = &entry;
      }
    }
    if (!longest) return nullptr;
  }
  std::vector<const rib::Path*> equal;
  for (const auto& p : e->paths)
    if (p.multipath || p.best) equal.push_back(&p);
  if (equal.size() <= 1 || n.ecmp <= 1) return e->best();
  std::sort(equal.begin(), equal.end(), [](const rib::Path* a, const rib::Path* b) {
    return a->attrs->next_hop < b->attrs->next_hop;
  });
  if (equal.size() > n.ecmp) equal.resize(n.ecmp);
  return equal[mix(flow, n.address) % equal.size()];
}

std::optional<Outcome> SimLab::request(const ClientSpec& c, uint64_t flow) const {
  Outcome o;
  auto fail = [&](std::string why) {
    o.ok = false;
    o.why = std::move(why);
    return o;
  };
  const IpAddress dst = c.target.address;
  const Node* at = by_name_.at(c.router);
  const Node* prev = nullptr;
  auto hop = [&](const Node* next) {
    o.hops.push_back(next->name);
    if (prev) o.rtt += 2 * net_.latency(prev->address, next->address);
    prev = next;
  };
  hop(at);
  for (int ttl = 0; ttl < 16; ++ttl) {
    if (at->crashed) return fail("black hole: " + at->name + " is down");
    switch (at->kind) {
      case Node::Kind::router:
      case Node::Kind::msee: {
        const rib::Path* p = route(*at, dst, flow);
        if (!p || !p->attrs->next_hop) return fail("no route at " + at->name);
        const Node* next = by_address(*p->attrs->next_hop);
        if (!next)
          return fail(at->name + ": next hop " + p->attrs->next_hop->to_string() + " unknown");
        hop(next);
        at = next;
        continue;
      }
      case Node::Kind::gateway: {
        // A spoke the hub reaches directly (or through its forwarding device).
        for (const auto& sp : at->hub_spec->spokes) {
          if (!contains(sp.prefix, dst)) continue;
          if (at->removed_spokes.count(sp.name)) break;
          o.ok = true;
          o.region = at->region;
          o.answer = sp.answer;
          o.hops.push_back(sp.name);
          return o;
        }
        // VNet routes: what the hub's route servers learned, equal NVAs sharing flows.
        const Node* next = nullptr;
        for (const auto& rs : at->hub_spec->route_servers) {
          const Node* r = by_address(rs);
          if (!r || r->crashed) continue;
          const rib::Path* p = route(*r, dst, flow);
          if (!p || !p->attrs->next_hop) continue;
          next = by_address(*p->attrs->next_hop);
          if (next) break;
        }
        if (!next) return fail("no route in " + at->hub);
        hop(next);
        at = next;
        continue;
      }
      case Node::Kind::nva: {
        // The proxy: a service on the destination, else the region's backends, each in
        // rotation while every check aimed at it is up.
        std::vector<Endpoint> pool;
        for (const auto& s : at->nva->config.proxy.services)
          if (s.listen.address == dst || s.listen.address == IpAddress{})
            for (const auto& b : s.backends) pool.push_back(b.endpoint);
        if (pool.empty())
          for (const auto& g : t_.regions)
            if (g.name == at->region)
              for (const auto& b : g.backends) pool.push_back(b.at);
        std::vector<Endpoint> ready;
        for (const auto& e : pool) {
          bool up = true;
          if (at->monitor)
            for (const auto& ch : at->monitor->checkers())
              if (ch->config().target == e) up &= ch->state().up();
          if (up) ready.push_back(e);
        }
        if (ready.empty()) return fail(at->name + ": no backend in rotation (503)");
        const Node* b = by_address(ready[mix(flow, at->address) % ready.size()].address);
        if (!b || b->kind != Node::Kind::backend) return fail(at->name + ": backend unknown");
        hop(b);
        if (b->crashed) return fail("black hole: " + b->name + " is down");
        if (b->failed) return fail(b->name + ": application error (503)");
        o.ok = true;
        o.region = b->region;
        o.answer = b->backend->answer;
        return o;
      }
      default:
        return fail("routing loop or dead end at " + at->name);
    }
  }
  return fail("TTL expired");
}

}  // namespace anycastd::lab
