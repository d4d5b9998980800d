// The data plane of the simulated lab: a request walks from the client's router through
// each device's Loc-RIB (ECMP by a flow hash where the device has equal paths), through
// the hub's VNet routes (what its route servers program), to an NVA's proxy or a spoke's
// application. A crashed device on the way is a black hole; an NVA with no backend in
// rotation, or a failed application, answers an error.
#include <algorithm>

#include "lab/forwarding.hpp"
#include "lab/sim_node.hpp"

namespace anycastd::lab {

bool contains(const Prefix& p, const IpAddress& a) {
  return p.family() == a.family() && Prefix(a, p.length()) == p;
}

uint64_t flow_hash(uint64_t flow, const IpAddress& at) {
  uint64_t h = flow * 0x9E3779B97F4A7C15ull ^ (at.is_v4() ? at.v4_value() : 0);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// The longest match, then among equal paths (the multipath set) one per flow.
const rib::Path* SimLab::route(const Node& n, const IpAddress& dst, uint64_t flow) const {
  const bgp::Speaker* speaker = n.bgp();
  if (!speaker) return nullptr;
  const auto& rib = speaker->rib();
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
  return equal[flow_hash(flow, n.address) % equal.size()];
}

SimLab::Walk SimLab::walk(const ClientSpec& c, uint64_t flow, const NextHop& next_hop) const {
  Walk w;
  Outcome& o = w.outcome;
  auto fail = [&](std::string why) {
    o.ok = false;
    o.why = std::move(why);
    return w;
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
        auto nh = next_hop(*at, dst, flow);
        if (!nh) return fail("no route at " + at->name);
        const Node* next = by_address(*nh);
        if (!next) return fail(at->name + ": next hop " + nh->to_string() + " unknown");
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
          w.endpoint = at->hub + "/" + sp.name;
          return w;
        }
        // VNet routes: what the hub's route servers learned, equal NVAs sharing flows.
        const Node* next = nullptr;
        for (const auto& rs : at->hub_spec->route_servers) {
          const Node* r = by_address(rs);
          if (!r || r->crashed) continue;
          auto nh = next_hop(*r, dst, flow);
          if (nh) next = by_address(*nh);
          if (next) break;
        }
        if (!next) return fail("no route in " + at->hub);
        hop(next);
        at = next;
        continue;
      }
      case Node::Kind::nva:
        if (at->crashed) return fail("black hole: " + at->name + " is down");
        if (at->frozen) return fail("black hole: " + at->name + " is frozen");
        w.nva = at;
        w.endpoint = at->name;
        return w;
      default:
        return fail("routing loop or dead end at " + at->name);
    }
  }
  return fail("TTL expired");
}

SimLab::Walk SimLab::walk_now(const ClientSpec& c, uint64_t flow) const {
  return walk(c, flow, [this](const Node& n, const IpAddress& dst, uint64_t f) {
    const rib::Path* p = route(n, dst, f);
    return p && p->attrs->next_hop ? p->attrs->next_hop : std::nullopt;
  });
}

// A request is a TCP connection, not an instant: the handshake reaches an endpoint, and one
// round trip later the request itself follows whatever the routers' tables say then. If the
// route moved in between, the request reaches an NVA (or spoke) that never saw the
// handshake, and that one answers with a reset -- what anycast does to every connection in
// flight when the routing changes under it (seen in the netns lab as ECONNRESET).
void SimLab::request(const ClientSpec& c, uint64_t flow, std::function<void(Outcome)> done) {
  Walk w = walk_now(c, flow);
  if (w.endpoint.empty()) return done(std::move(w.outcome));
  Duration handshake = w.outcome.rtt;
  loop_.schedule(handshake, [this, c, flow, w = std::move(w), done = std::move(done)]() mutable {
    Walk then = walk_now(c, flow);
    if (then.endpoint != w.endpoint) {
      Outcome& o = w.outcome;
      o.ok = false;
      o.region.clear();
      o.answer.clear();
      o.why = then.endpoint.empty()
                  ? then.outcome.why
                  : "connection reset by " + then.endpoint + ": the route moved from " +
                        w.endpoint + " mid-connection";
      return done(std::move(o));
    }
    if (!w.nva) return done(std::move(w.outcome));
    serve(c, flow, std::move(w), std::move(done));
  });
}

void SimLab::serve(const ClientSpec& c, uint64_t flow, Walk w, std::function<void(Outcome)> done) {
  Outcome& o = w.outcome;
  const Node* at = w.nva;
  const IpAddress dst = c.target.address;
  auto fail = [&](std::string why) {
    o.ok = false;
    o.why = std::move(why);
    done(std::move(o));
  };
  // The NVA's proxy, with the balancer its service is configured with.
  SimForwarder* fw = at->forwarder();
  auto svc = fw ? fw->service_for(c.target, at->address) : std::nullopt;
  if (!svc) return fail(at->name + ": no backend in rotation (503)");
  const Node* client = by_name_.at(c.router);
  proxy::FlowKey key{client->address, static_cast<uint16_t>(1024 + flow % 64000), dst,
                     c.target.port, 6};
  auto picked = fw->open(*svc, key);
  if (!picked) return fail(at->name + ": no backend in rotation (503)");
  // Answered at once: the connection is closed again before the next one is balanced.
  fw->close(*svc, *picked);
  const auto& be = fw->config().services[*svc].backends[*picked];
  const Node* b = by_address(be.endpoint.address);
  if (!b || b->kind != Node::Kind::backend) return fail(at->name + ": backend unknown");
  o.hops.push_back(b->name);
  o.rtt += 2 * net_.latency(at->address, b->address);
  if (b->crashed) return fail("black hole: " + b->name + " is down");
  if (b->failed) return fail(b->name + ": application error (503)");
  o.ok = true;
  o.region = b->region;
  o.answer = b->backend->answer;
  done(std::move(o));
}

}  // namespace anycastd::lab
