#include "lab/sim_lab.hpp"

#include "api/control.hpp"
#include "lab/backend_action.hpp"
#include "lab/http_backend.hpp"
#include "lab/nva_proxy.hpp"
#include "lab/sim_node.hpp"

namespace anycastd::lab {

namespace {

constexpr uint32_t kRouteServerAs = 65515;

uint32_t id_of(const IpAddress& a) {
  return a.is_v4() ? a.v4_value() : 1;
}

bgp::VipConfig originated(const Prefix& p, std::vector<uint32_t> path_asns = {}) {
  bgp::VipConfig v;
  v.prefix = p;
  v.path_asns = std::move(path_asns);
  v.network = true;
  return v;
}

policy::Policy reject_from(std::string name, const std::vector<IpAddress>& peers) {
  policy::Policy p{std::move(name), {}, true};
  policy::Term t;
  t.name = "not-branch-to-branch";
  t.match.peers = peers;
  t.actions.verdict = policy::Actions::Verdict::reject;
  p.terms.push_back(t);
  return p;
}

}  // namespace

SimLab::SimLab(const Topology& t) : t_(t), net_(loop_, t.latency) {
  build();
}

SimLab::~SimLab() {
  // Speakers and checks hold timers on the loop and streams on the network: gone first.
  for (auto& n : nodes_) {
    n->daemon.reset();
    n->speaker.reset();
    n->connections.clear();
    n->listener.reset();
  }
}

void SimLab::emit(std::string kind, std::string text) {
  if (on_event) on_event(Event{elapsed(), std::move(kind), std::move(text)});
}

SimLab::Node* SimLab::node(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const SimLab::Node* SimLab::by_address(const IpAddress& a) const {
  auto it = by_address_.find(a);
  return it == by_address_.end() ? nullptr : it->second;
}

// Every device and its sessions, from the roles' rules: NVAs dial both route server
// instances (eBGP, hold time the route server's), gateway instances dial both route server
// instances (iBGP) and their circuits' MSEEs, on-prem routers dial their MSEEs.
void SimLab::build() {
  auto add = [&](Node::Kind k, std::string name, IpAddress addr) -> Node& {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->name = std::move(name);
    n->address = addr;
    n->transport = net_.host(addr);
    auto& ref = *n;
    by_name_[ref.name] = &ref;
    by_address_[addr] = &ref;
    nodes_.push_back(std::move(n));
    return ref;
  };
  policy::Policy accept = policy::accept_all("accept");
  std::map<std::string, Node*> msee;
  for (const auto& c : t_.circuits) {
    auto& n = add(Node::Kind::msee, "msee-" + c.name, c.address);
    n.hub = c.name;
    n.ecmp = c.ecmp;
    auto& s = n.speaker_cfg;
    s.local_as = c.asn;
    s.router_id = id_of(c.address);
    s.listen_address = c.address;
    s.decision.tie_breaks = c.tie_breaks;
    s.decision.multipath = c.ecmp;
    s.policies["accept"] = accept;
    policy::Policy customer{"to-customer", {}, true};
    if (c.remove_private_as) {
      policy::Term strip;
      strip.name = "remove-private-as";
      strip.actions.remove_private_asns = true;
      customer.terms.push_back(strip);
    }
    s.policies["to-customer"] = customer;
    msee[c.name] = &n;
  }
  for (auto& g : t_.regions) {
    const auto& h = g.hub;
    std::vector<IpAddress> nva_addrs, gw_addrs = h.gateways;
    for (const auto& v : g.nvas) nva_addrs.push_back(v.address);
    std::vector<bgp::VipConfig> hub_routes;
    for (const auto& p : h.prefixes) hub_routes.push_back(originated(p));
    for (size_t i = 0; i < h.route_servers.size(); ++i) {
      auto& n =
          add(Node::Kind::route_server, h.name + "-rs" + std::to_string(i), h.route_servers[i]);
      n.region = g.name;
      n.hub = h.name;
      n.hub_spec = &h;
      n.ecmp = std::max<size_t>(1, g.nvas.size());
      auto& s = n.speaker_cfg;
      s.local_as = kRouteServerAs;
      s.router_id = id_of(h.route_servers[i]);
      s.listen_address = h.route_servers[i];
      s.vips = hub_routes;
      for (const auto& sp : h.spokes) s.vips.push_back(originated(sp.prefix));
      s.decision.ignore_med = true;
      s.decision.multipath = std::max<size_t>(1, g.nvas.size());
      s.policies["accept"] = accept;
      s.policies["to-gateway"] = h.branch_to_branch ? accept : reject_from("to-gateway", nva_addrs);
      s.policies["to-nva"] = h.branch_to_branch ? accept : reject_from("to-nva", gw_addrs);
      for (const auto& v : g.nvas) {
        bgp::PeerConfig p;
        p.address = v.address;
        p.remote_as = v.config.bgp.local_as;
        p.passive = true;
        p.hold_time = h.rs_hold_time;
        p.import_policy = "accept";
        p.export_policy = "to-nva";
        p.max_prefix.limit = h.rs_max_routes;
        p.require_route_refresh = true;
        s.peers.push_back(p);
      }
      for (const auto& gw : h.gateways) {
        bgp::PeerConfig p;
        p.address = gw;
        p.remote_as = kRouteServerAs;
        p.passive = true;
        p.export_policy = "to-gateway";
        s.peers.push_back(p);
      }
    }
    for (size_t i = 0; i < h.gateways.size(); ++i) {
      auto& n = add(Node::Kind::gateway, h.name + "-gw" + std::to_string(i), h.gateways[i]);
      n.region = g.name;
      n.hub = h.name;
      n.hub_spec = &h;
      auto& s = n.speaker_cfg;
      s.local_as = kRouteServerAs;
      s.router_id = id_of(h.gateways[i]);
      s.vips = hub_routes;
      for (const auto& sp : h.spokes) s.vips.push_back(originated(sp.prefix, sp.route_map_prepend));
      s.policies["accept"] = accept;
      for (const auto& rs : h.route_servers) {
        bgp::PeerConfig p;
        p.address = rs;
        p.remote_as = kRouteServerAs;
        p.local_address = h.gateways[i];
        s.peers.push_back(p);
      }
      for (const auto& c : h.circuits) {
        const auto& m = *msee.at(c);
        bgp::PeerConfig p;
        p.address = m.address;
        p.remote_as = m.speaker_cfg.local_as;
        p.local_address = h.gateways[i];
        p.import_policy = p.export_policy = "accept";
        s.peers.push_back(p);
        bgp::PeerConfig back;
        back.address = h.gateways[i];
        back.remote_as = kRouteServerAs;
        back.passive = true;
        back.import_policy = back.export_policy = "accept";
        msee.at(c)->speaker_cfg.peers.push_back(back);
        net_.set_latency(h.gateways[i], m.address, g.latency);
      }
    }
    for (auto& v : g.nvas) {
      auto& n = add(Node::Kind::nva, v.name, v.address);
      n.region = g.name;
      n.hub = h.name;
      n.nva = &v;
      n.speaker_cfg = v.config.bgp;
      for (const auto& rs : h.route_servers) {
        bool listed = false;
        for (const auto& p : n.speaker_cfg.peers) listed |= p.address == rs;
        if (listed) continue;
        bgp::PeerConfig p;
        p.address = rs;
        p.remote_as = kRouteServerAs;
        p.hold_time = h.rs_hold_time;
        p.local_address = v.address;
        n.speaker_cfg.peers.push_back(p);
      }
    }
    for (const auto& b : g.backends) {
      auto& n = add(Node::Kind::backend, b.name, b.at.address);
      n.region = g.name;
      n.hub = h.name;
      n.backend = &b;
    }
  }
  for (const auto& r : t_.routers) {
    auto& n = add(Node::Kind::router, r.name, r.address);
    n.ecmp = r.ecmp;
    auto& s = n.speaker_cfg;
    s.local_as = r.asn;
    s.router_id = id_of(r.address);
    s.decision.multipath = r.ecmp;
    s.policies["accept"] = accept;
    for (const auto& p : r.prefixes) s.vips.push_back(originated(p));
    for (const auto& c : r.circuits) {
      auto& m = *msee.at(c);
      bgp::PeerConfig p;
      p.address = m.address;
      p.remote_as = m.speaker_cfg.local_as;
      p.local_address = r.address;
      p.import_policy = p.export_policy = "accept";
      s.peers.push_back(p);
      bgp::PeerConfig back;
      back.address = r.address;
      back.remote_as = r.asn;
      back.passive = true;
      back.import_policy = "accept";
      back.export_policy = "to-customer";
      m.speaker_cfg.peers.push_back(back);
    }
  }
}

void SimLab::start_speaker(Node& n) {
  n.speaker = std::make_unique<bgp::Speaker>(loop_, *n.transport, n.speaker_cfg,
                                             t_.seed * 7919 + id_of(n.address));
  if (n.kind == Node::Kind::route_server) {
    n.speaker->on_peer_state = [this, &n](size_t i, bgp::State s) {
      if (i >= n.speaker_cfg.peers.size()) return;
      const auto* peer = by_address(n.speaker_cfg.peers[i].address);
      if (!peer || peer->kind != Node::Kind::nva) return;
      if (s == bgp::State::established) {
        emit("session", n.name + ": session with " + peer->name + " established");
      } else if (s == bgp::State::idle || s == bgp::State::active) {
        auto info = n.speaker->peer_info(i);
        if (info.last_error.empty() || info.established_count == 0) return;
        std::string why = info.last_error;
        if (why.find("max-prefix limit") != std::string::npos)
          why += " (the route server accepts at most " + std::to_string(n.hub_spec->rs_max_routes) +
                 " routes from an NVA: max-routes)";
        emit("session", n.name + ": session with " + peer->name + " down: " + why);
      }
    };
  }
  if (n.kind == Node::Kind::msee) watch_msee(n);
  auto r = n.speaker->start();
  if (!r) emit("error", n.name + ": " + r.error());
}

void SimLab::watch_msee(Node& n) {
  n.speaker->on_route_change([this, &n](const Prefix& p, const rib::Entry* e) {
    bool watched = false;
    for (const auto& c : t_.clients)
      watched |=
          p.family() == c.target.address.family() && Prefix(c.target.address, p.length()) == p;
    if (!watched) return;
    const rib::Path* best = e ? e->best() : nullptr;
    std::string now = "none";
    if (best && best->attrs->next_hop) {
      const Node* via = by_address(*best->attrs->next_hop);
      now = t_.show(*best->attrs->next_hop).to_string() + " (" + (via ? via->region : "?") + ")";
    }
    auto& last = n.last_best[p];
    if (last == now) return;
    last = now;
    emit("msee-best", n.name + ": " + p.to_string() + " via " + now);
  });
}

void SimLab::start_backend(Node& n) {
  auto l = n.transport->listen(n.backend->at, [this, &n](std::unique_ptr<Stream> s) {
    n.connections.remove_if([](const auto& c) { return c->done(); });
    n.connections.push_back(std::make_unique<HttpConnection>(loop_, std::move(s), n.backend->answer,
                                                             [&n] { return !n.failed; }));
  });
  if (!l) {
    emit("error", n.name + ": " + l.error());
    return;
  }
  n.listener = std::move(*l);
}

// The NVA's configuration as its daemon runs it: the topology's, with the route servers
// as peers and the lab's proxy; nothing of the host's (control socket, metrics, kernel).
config::Config SimLab::nva_config(const Node& n) const {
  config::Config c = n.nva->config;
  c.bgp = n.speaker_cfg;
  c.proxy = nva_proxy(t_, n);
  c.control.socket.clear();
  c.metrics.address.reset();
  return c;
}

void SimLab::start_nva(Node& n) {
  if (!n.platform)
    n.platform = std::make_unique<SimPlatform>(
        loop_, *n.transport, [this, &n](std::string why) { emit("error", n.name + ": " + why); });
  n.daemon = std::make_unique<daemon::Daemon>(
      loop_, *n.transport, *n.platform, nva_config(n),
      daemon::Options{"", t_.seed * 7919 + id_of(n.address), t_.seed + id_of(n.address)});
  n.daemon->on_check = [this, &n](const health::Checker& c, bool flipped) {
    if (!flipped) return;
    emit("check", n.name + ": check " + c.config().name + " " + (c.state().up() ? "up" : "down") +
                      " (" + c.state().last()->describe() + ")");
  };
  // The route servers report their side of their sessions; the NVA reports the others
  // (NVA to NVA), which is where BFD runs.
  n.daemon->on_peer_state = [this, &n, up = std::set<IpAddress>()](const bgp::Speaker& sp, size_t i,
                                                                   bgp::State s) mutable {
    if (i >= sp.config().peers.size()) return;
    const auto addr = sp.config().peers[i].address;
    const auto* peer = by_address(addr);
    if (!peer || peer->kind == Node::Kind::route_server) return;
    if (s == bgp::State::established) {
      up.insert(addr);
      emit("session", n.name + ": session with " + peer->name + " established");
    } else if (up.erase(addr)) {
      emit("session",
           n.name + ": session with " + peer->name + " down: " + sp.peer_info(i).last_error);
    }
  };
  n.daemon->on_announce = [this, &n](const Prefix& p, const health::VipHealth& v) {
    emit("announce", n.name + ": VIP " + p.to_string() + " " + health::to_string(v.status()) +
                         " (" + v.reason() + ")");
  };
  if (auto r = n.daemon->start(); !r) emit("error", n.name + ": " + r.error());
}

void SimLab::stop_nva(Node& n, bool crash) {
  if (crash) {
    net_.crash(n.address);
    n.crashed = true;
    n.daemon.reset();
    return;
  }
  if (n.daemon) n.daemon->stop_bgp();
}

Status<> SimLab::start() {
  start_ = loop_.now();
  for (auto& n : nodes_) {
    if (n->kind == Node::Kind::backend) {
      start_backend(*n);
    } else if (n->kind == Node::Kind::nva) {
      start_nva(*n);
    } else {
      start_speaker(*n);
    }
  }
  return Done{};
}

void SimLab::apply(const Action& a) {
  emit("action", a.describe());
  using K = Action::Kind;
  switch (a.kind) {
    case K::stop_bgp:
      if (auto* n = node(a.target); n && n->daemon && n->daemon->bgp_running()) stop_nva(*n, false);
      break;
    case K::start_bgp:
      if (auto* n = node(a.target); n && n->daemon && !n->crashed) n->daemon->start_bgp();
      break;
    case K::crash:
      if (auto* n = node(a.target); n && !n->crashed) {
        if (n->frozen) net_.rejoin(n->address), n->frozen = false;
        if (n->kind == Node::Kind::nva) {
          stop_nva(*n, true);
        } else {
          net_.crash(n->address);
          n->crashed = true;
          n->connections.clear();
          n->listener.reset();
        }
      }
      break;
    case K::restore:
      if (auto* n = node(a.target); n && n->crashed) {
        net_.revive(n->address);
        n->crashed = false;
        n->kind == Node::Kind::nva ? start_nva(*n) : start_backend(*n);
      }
      break;
    case K::fail_backend:
    case K::restore_backend:
      if (auto* n = node(a.target)) n->failed = a.kind == K::fail_backend;
      break;
    case K::drain:
    case K::undrain:
      if (auto* n = node(a.target); n && n->daemon)
        a.kind == K::drain ? n->daemon->drain_all() : n->daemon->undrain_all();
      break;
    case K::partition:
    case K::heal:
    case K::link_delay:
      if (auto* n = node(a.target)) links_to_route_servers(*n, a);
      break;
    case K::freeze:
      if (auto* n = node(a.target); n && !n->crashed && !n->frozen) {
        net_.isolate(n->address);
        n->frozen = true;
        if (a.duration > Duration::zero()) {
          Action thaw = a;
          thaw.kind = K::thaw;
          later_.post([this, thaw] { apply(thaw); }, a.duration);
        }
      }
      break;
    case K::reload:
      for (const auto& c : change(a)) {
        auto* n = c.node;
        if (!n->daemon) continue;  // a crashed NVA boots with it
        auto r = n->daemon->apply(nva_config(*n));
        if (!r.applied) emit("error", n->name + ": " + a.describe() + ": " + r.error);
      }
      break;
    case K::backend:
      if (auto* n = node(a.target); n && n->daemon) {
        auto at = lab_backend(t_, a.backend);
        auto answer =
            api::handle(backend_request(a, at ? at->to_string() : a.backend), n->daemon->parts());
        if (answer.value("ok", false) != true)
          emit("error", n->name + ": " + a.describe() + ": " + answer.value("error", "refused"));
      }
      break;
    case K::thaw:
      if (auto* n = node(a.target); n && n->frozen) {
        net_.rejoin(n->address);
        n->frozen = false;
      }
      break;
    case K::remove_peering:
    case K::restore_peering:
    case K::route_map:
    case K::export_policy:
    case K::prepend:
      for (const auto& c : change(a)) {
        if (c.node->daemon) {
          // An NVA's configuration changes as an operator's would: a reload.
          auto next = nva_config(*c.node);
          next.bgp.vips = c.vips;
          c.node->daemon->apply(std::move(next));
        } else if (c.node->speaker) {
          c.node->speaker->reconfigure(c.node->speaker_cfg.peers, c.vips);
        }
      }
      break;
  }
}

void SimLab::links_to_route_servers(Node& n, const Action& a) {
  using K = Action::Kind;
  for (const auto& g : t_.regions) {
    if (g.name != n.region) continue;
    for (const auto& rs : g.hub.route_servers) {
      if (a.kind == K::partition) net_.partition(n.address, rs);
      if (a.kind == K::heal) net_.heal(n.address, rs);
      if (a.kind == K::link_delay) net_.set_latency(n.address, rs, a.duration);
    }
  }
  if (a.kind == K::partition && a.duration > Duration::zero()) {
    Action heal = a;
    heal.kind = K::heal;
    later_.post(
        [this, &n, heal] {
          emit("action", heal.describe());
          links_to_route_servers(n, heal);
        },
        a.duration);
  }
}

std::vector<SimLab::Change> SimLab::change(const Action& a) {
  using K = Action::Kind;
  std::vector<Change> out;
  switch (a.kind) {
    case K::remove_peering:
    case K::restore_peering:
    case K::route_map:
      for (auto& n : nodes_) {
        if (n->kind != Node::Kind::gateway) continue;
        bool changed = false;
        for (auto& v : n->speaker_cfg.vips)
          for (const auto& sp : n->hub_spec->spokes) {
            if (sp.name != a.target || v.prefix != sp.prefix) continue;
            changed = true;
            if (a.kind == K::route_map) v.path_asns = a.asns;
          }
        if (!changed) continue;
        if (a.kind == K::remove_peering) n->removed_spokes.insert(a.target);
        if (a.kind == K::restore_peering) n->removed_spokes.erase(a.target);
        Change c{n.get(), {}};
        for (const auto& v : n->speaker_cfg.vips) {
          bool removed = false;
          for (const auto& sp : n->hub_spec->spokes)
            removed |= v.prefix == sp.prefix && n->removed_spokes.count(sp.name);
          if (!removed) c.vips.push_back(v);
        }
        out.push_back(std::move(c));
      }
      break;
    case K::reload:
      // The NVA's checks and services; its sessions stay the topology's.
      if (auto* n = node(a.target); n && n->nva && a.config) {
        n->nva->config = *a.config;
        out.push_back({n, n->speaker_cfg.vips});
      }
      break;
    case K::export_policy:
      if (auto* n = node(a.target)) {
        for (auto& p : n->speaker_cfg.peers)
          for (const auto& rs : by_name_)
            if (rs.second->kind == Node::Kind::route_server && rs.second->address == p.address)
              p.export_policy = a.policy;
        out.push_back({n, n->speaker_cfg.vips});
      }
      break;
    case K::prepend:
      if (auto* n = node(a.target)) {
        for (auto& v : n->speaker_cfg.vips) v.prepend = a.count;
        out.push_back({n, n->speaker_cfg.vips});
      }
      break;
    default:
      break;
  }
  return out;
}

}  // namespace anycastd::lab
