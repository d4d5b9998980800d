#include "bgp/speaker.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "bgp/route_log.hpp"
#include "wire/codec.hpp"
#include "wire/packer.hpp"

namespace anycastd::bgp {

namespace {

constexpr AfiSafi kV4{kAfiIpv4, kSafiUnicast};
constexpr AfiSafi kV6{kAfiIpv6, kSafiUnicast};

// Families both sides can carry. A peer that sends no multiprotocol capability speaks
// IPv4 unicast only (RFC 4760 §8).
bool carries(const Session& s, AfiSafi f) {
  const auto& theirs = s.fsm().peer_open->caps;
  if (theirs.multiprotocol.empty()) return f == kV4 && s.fsm_config().caps.supports(kV4);
  return theirs.supports(f) && s.fsm_config().caps.supports(f);
}

}  // namespace

Speaker::Speaker(Loop& loop, Transport& transport, SpeakerConfig cfg, uint64_t seed)
    : loop_(loop),
      transport_(transport),
      cfg_(std::move(cfg)),
      seed_(seed),
      rib_(rib::RibConfig{cfg_.local_as, cfg_.router_id, cfg_.decision}) {
  base_fsm_.local_as = cfg_.local_as;
  base_fsm_.bgp_id = cfg_.router_id;
  base_fsm_.caps.multiprotocol = {kV4, kV6};
  base_fsm_.caps.route_refresh = true;
  // Graceful-restart aware but preserving nothing: a dead NVA's VIP must go at once, not
  // linger for a restart time.
  base_fsm_.caps.graceful_restart = GracefulRestart{false, 0, {}};
  for (const auto& v : cfg_.vips) {
    if (!v.start_announced) continue;
    up_vips_[v.prefix] = VipAnnouncement::plain();
    rib_.originate(v.prefix, vip_attributes(v, cfg_.local_as));
  }
  for (const auto& pc : cfg_.peers) peers_.push_back(make_peer(pc));
}

Speaker::~Speaker() = default;

std::unique_ptr<Speaker::Peer> Speaker::make_peer(const PeerConfig& pc) {
  auto policy = [&](const std::string& name) -> const policy::Policy* {
    auto it = cfg_.policies.find(name);
    return it == cfg_.policies.end() ? nullptr : &it->second;
  };
  auto p = std::make_unique<Peer>(loop_);
  p->cfg = pc;
  rib::PeerSettings s{pc.address, pc.remote_as, policy(pc.import_policy), policy(pc.export_policy)};
  s.allow_own_as = pc.allow_own_as;
  s.route_reflector_client = pc.route_reflector_client;
  s.route_server_client = pc.route_server_client;
  s.max_prefix = pc.max_prefix.limit;
  s.max_prefix_warning = pc.max_prefix.warning_percent;
  p->id = rib_.add_peer(s);
  start_bfd(*p);
  return p;
}

void Speaker::start_bfd(Peer& p) {
  if (!p.cfg.bfd) return;
  if (!bfd_) bfd_ = std::make_unique<bfd::Service>(loop_, transport_, seed_);
  bfd::Key k;
  k.remote = p.cfg.address;
  k.multihop = p.cfg.multihop > 0;
  if (p.cfg.local_address)
    k.local = *p.cfg.local_address;
  else if (cfg_.listen_address && cfg_.listen_address->family() == p.cfg.address.family() &&
           !cfg_.listen_address->is_unspecified())
    k.local = *cfg_.listen_address;
  else
    k.local = *IpAddress::parse(p.cfg.address.is_v6() ? "::" : "0.0.0.0");
  Peer* raw = &p;
  auto h = bfd_->add(k, *p.cfg.bfd, [this, raw](const bfd::Transition& t) { on_bfd(*raw, t); });
  if (!h) {
    p.bfd_error = h.error();
    log().error("peer {}: BFD cannot start: {}", p.cfg.name(), h.error());
    return;
  }
  p.bfd = std::move(*h);
}

void Speaker::on_bfd(Peer& p, const bfd::Transition& t) {
  const auto& info = p.bfd->session().info();
  log().info("peer {}: BFD {} -> {}{}", p.cfg.name(), bfd::to_string(t.from), bfd::to_string(t.to),
             t.diag == bfd::Diag::none ? "" : std::string(" (") + bfd::to_string(t.diag) + ")");
  if (t.from != bfd::State::up || t.to != bfd::State::down) return;
  // RFC 5882 §3.2: a neighbour that turns BFD off administratively has not failed.
  if (t.remote_admin_down) return;
  if (shutting_down_ || !p.session || p.session->state() != State::established) return;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(info.detection_time).count();
  std::string why = "BFD down (detection time " + std::to_string(ms) + " ms)";
  // The session reports its own end: with this reason, and a Cease/BFD Down (RFC 9384) if
  // the link still carries it. Then a fresh one tries again, as after a hold timer expiry.
  p.session->stop(err::kCeaseBfdDown, why);
  if (p.session && p.session->state() == State::idle) {
    bury(std::move(p.session));
    p.session = make_session(p.cfg);
    p.session->start();
  }
}

void Speaker::drop_peer(Peer& p) {
  p.max_prefix_restart.cancel();
  p.mrai.cancel();
  // The RIB keeps the id (ids are never reused); the peer's routes leave it now.
  if (rib_.is_up(p.id)) {
    rib_.peer_down(p.id);
    flush_all();
  }
  // Out of the peer first, so that the session's own down report finds no peer to act on.
  for (auto* slot : {&p.session, &p.candidate}) {
    auto s = std::move(*slot);
    if (!s) continue;
    s->stop(err::kCeasePeerDeconfigured);
    bury(std::move(s));
  }
}

Speaker::Reconfigured Speaker::reconfigure(const std::vector<PeerConfig>& peers,
                                           const std::vector<VipConfig>& vips) {
  Reconfigured out;
  auto wanted = [&](const PeerConfig& pc) {
    return std::find(peers.begin(), peers.end(), pc) != peers.end();
  };
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (wanted((*it)->cfg)) {
      ++it;
      continue;
    }
    bool again = std::any_of(peers.begin(), peers.end(), [&](const PeerConfig& pc) {
      return pc.address == (*it)->cfg.address;
    });
    (again ? out.restarted : out.removed).push_back((*it)->cfg.name());
    drop_peer(**it);
    it = peers_.erase(it);
  }
  std::vector<std::unique_ptr<Peer>> kept;
  for (const auto& pc : peers) {
    auto it = std::find_if(peers_.begin(), peers_.end(),
                           [&](const auto& p) { return p && p->cfg == pc; });
    if (it != peers_.end()) {
      kept.push_back(std::move(*it));
      continue;
    }
    auto p = make_peer(pc);
    if (std::none_of(out.restarted.begin(), out.restarted.end(),
                     [&](const std::string& n) { return n == pc.name(); }))
      out.added.push_back(pc.name());
    p->session = make_session(pc);
    p->session->start();
    kept.push_back(std::move(p));
  }
  peers_ = std::move(kept);  // in the new configuration's order, as peer_info(i) expects
  cfg_.peers = peers;
  sync_listener();

  // By prefix, so that a reload of thousands of VIPs (networks) is not quadratic.
  std::unordered_map<Prefix, const VipConfig*> next;
  for (const auto& v : vips) next.emplace(v.prefix, &v);
  for (const auto& old : cfg_.vips)
    if (!next.count(old.prefix)) {
      out.vips_changed.push_back(old.prefix.to_string() + " removed");
      up_vips_.erase(old.prefix);
      rib_.retract(old.prefix);
    }
  std::unordered_map<Prefix, VipConfig> old_vips;
  for (auto& v : cfg_.vips) old_vips.emplace(v.prefix, std::move(v));
  cfg_.vips = vips;
  for (const auto& v : vips) {
    auto old = old_vips.find(v.prefix);
    if (old != old_vips.end() && old->second == v) continue;
    out.vips_changed.push_back(v.prefix.to_string() +
                               (old == old_vips.end() ? " added" : " changed"));
    if (auto up = up_vips_.find(v.prefix); up != up_vips_.end()) {
      rib_.originate(v.prefix, vip_attributes(v, cfg_.local_as, up->second));
    } else if (old == old_vips.end() && v.start_announced) {
      up_vips_[v.prefix] = VipAnnouncement::plain();
      rib_.originate(v.prefix, vip_attributes(v, cfg_.local_as));
    }
  }
  for (auto& p : peers_) flush_now(*p);
  return out;
}

std::vector<std::string> Speaker::update_policies(
    const std::map<std::string, policy::Policy>& next) {
  std::set<std::string> changed;
  for (const auto& [name, pol] : next) {
    auto it = cfg_.policies.find(name);
    if (it != cfg_.policies.end() && it->second == pol) continue;
    changed.insert(name);
    // Assigned in place: the RIB holds pointers to these map nodes.
    cfg_.policies[name] = pol;
  }
  std::vector<std::string> out;
  for (auto& p : peers_) {
    bool in = changed.count(p->cfg.import_policy) > 0;
    bool ex = changed.count(p->cfg.export_policy) > 0;
    if (!in && !ex) continue;
    out.push_back(p->cfg.name());
    if (!p->session || p->session->state() != State::established) continue;
    if (in) {
      const auto& open = p->session->fsm().peer_open;
      if (open && open->caps.route_refresh) {
        log().info("peer {}: import policy changed; asking for a route refresh", p->cfg.name());
        std::vector<AfiSafi> families = open->caps.multiprotocol;
        if (families.empty()) families.push_back(AfiSafi{});
        for (const auto& f : families)
          p->session->send_encoded(encode(RouteRefresh{f, 0}, p->session->codec()));
      } else {
        log().warn("peer {}: import policy changed and it has no route refresh; restarting",
                   p->cfg.name());
        drop_peer(*p);
        auto fresh = make_peer(p->cfg);
        fresh->session = make_session(fresh->cfg);
        fresh->session->start();
        p = std::move(fresh);
        continue;
      }
    }
    if (ex) {
      rib_.reexport(p->id);
      flush_now(*p);
    }
  }
  return out;
}

std::unique_ptr<Session> Speaker::make_session(const PeerConfig& pc) {
  FsmConfig f = base_fsm_;
  f.peer_as = pc.remote_as;
  f.hold_time = pc.hold_time;
  f.passive = pc.passive;
  f.require_route_refresh = pc.require_route_refresh;
  f.connect_retry = pc.connect_retry;
  f.idle_hold_min = pc.error_wait_min;
  f.idle_hold_max = pc.error_wait_max;
  f.stable_after = pc.error_forget;
  return std::make_unique<Session>(loop_, transport_, pc, f, static_cast<SessionObserver&>(*this),
                                   seed_);
}

void Speaker::sync_listener() {
  if (!listener_) return;
  std::map<IpAddress, std::string> want;
  for (const auto& pc : cfg_.peers)
    if (!pc.password.empty()) want[pc.address] = pc.password;
  for (const auto& [addr, key] : listener_keys_)
    if (!want.count(addr))
      if (auto e = listener_->set_md5_key(addr, ""); !e.empty())
        log().warn("peer {}: cannot remove its TCP-MD5 key from the listener: {}", addr.to_string(),
                   e);
  for (const auto& [addr, key] : want) {
    auto old = listener_keys_.find(addr);
    if (old != listener_keys_.end() && old->second == key) continue;
    if (auto e = listener_->set_md5_key(addr, key); !e.empty())
      log().error("peer {}: cannot set its TCP-MD5 key on the listener: {}", addr.to_string(), e);
  }
  listener_keys_ = std::move(want);
  bool gtsm = std::any_of(cfg_.peers.begin(), cfg_.peers.end(),
                          [](const PeerConfig& pc) { return pc.ttl_security; });
  if (gtsm != listener_gtsm_) {
    if (auto e = listener_->set_ttl(gtsm ? 255 : 0); !e.empty())
      log().error("cannot set the listener's TTL for ttl-security peers: {}", e);
    listener_gtsm_ = gtsm;
  }
}

Status<> Speaker::start() {
  if (cfg_.listen_address) {
    auto l = transport_.listen({*cfg_.listen_address, cfg_.listen_port},
                               [this](std::unique_ptr<Stream> s) { accept(std::move(s)); });
    if (!l) return Err(std::string("cannot listen: ") + l.error());
    listener_ = std::move(l).value();
    log().info("listening for BGP on {}", listener_->local().to_string());
    sync_listener();
  }
  for (auto& p : peers_) {
    p->session = make_session(p->cfg);
    p->session->start();
  }
  return Done{};
}

void Speaker::accept(std::unique_ptr<Stream> stream) {
  auto from = stream->remote();
  auto it = std::find_if(peers_.begin(), peers_.end(),
                         [&](const auto& p) { return p->cfg.address == from.address; });
  if (shutting_down_ || it == peers_.end()) {
    log().warn("refused BGP connection from {}: {}", from.to_string(),
               shutting_down_ ? "shutting down" : "not a configured peer");
    stream->close();
    return;
  }
  Peer& p = **it;
  // Before a byte is read: with GTSM, an OPEN that crossed a router never reaches us.
  if (auto o = Session::tcp_options(p.cfg); o.ttl || o.min_ttl) {
    if (auto e = transport_.secure_accepted(*stream, o); !e.empty()) {
      log().error("peer {}: cannot set TTL on the accepted connection: {}", p.cfg.name(), e);
      stream->close();
      return;
    }
  }
  if (p.session->accept(stream)) return;
  State st = p.session->state();
  if ((st == State::open_sent || st == State::open_confirm) && !p.candidate) {
    // Both sides dialled at once: run the inbound connection alongside until the peer's
    // BGP identifier decides which one survives.
    PeerConfig pc = p.cfg;
    pc.passive = true;
    p.candidate = make_session(pc);
    p.candidate->start();
    if (p.candidate->accept(stream)) return;
  }
  log().info("peer {}: refused extra connection from {} (session is {})", p.cfg.name(),
             from.to_string(), to_string(st));
  stream->close();
}

void Speaker::on_open_received(Session& s) {
  Peer* p = find(s);
  if (!p || !p->candidate) return;
  Session* other = &s == p->candidate.get() ? p->session.get() : p->candidate.get();
  if (other->state() < State::open_sent) return;
  uint32_t remote_id = s.fsm().peer_open->bgp_id;
  Keep keep = resolve_collision(cfg_.router_id, remote_id);
  bool drop_primary = (keep == Keep::locally_initiated) != p->session->locally_initiated();
  log().info("peer {}: connection collision, keeping the {} connection", p->cfg.name(),
             keep == Keep::locally_initiated ? "locally initiated" : "remotely initiated");
  std::unique_ptr<Session> loser;
  if (drop_primary) {
    loser = std::move(p->session);
    p->session = std::move(p->candidate);
  } else {
    loser = std::move(p->candidate);
  }
  loser->stop(err::kCeaseCollision);
  bury(std::move(loser));
}

void Speaker::on_up(Session& s) {
  Peer* p = find(s);
  if (!p) return;
  if (&s == p->candidate.get()) {  // the primary never got that far: the inbound one wins
    bury(std::move(p->session));
    p->session = std::move(p->candidate);
  }
  p->since = loop_.now();
  ++p->established_count;
  p->local_pref_noted = false;
  if (auto i = index_of(*p); on_peer_state && i) on_peer_state(*i, State::established);
  if (shutting_down_) return;
  auto local = p->session->local_endpoint();
  auto self = self_next_hops(p->cfg, local ? local->address : IpAddress{});
  rib_.peer_up(p->id, p->session->fsm().peer_open->bgp_id, self.v4, self.v6,
               carries(*p->session, kV4), carries(*p->session, kV6));
  flush_now(*p);
  Session& ses = *p->session;
  for (auto fam : {kV4, kV6})
    if (carries(ses, fam)) ses.send_encoded(bgp::end_of_rib(fam, ses.codec()));
}

void Speaker::on_down(Session& s, const std::string& reason) {
  Peer* p = find(s);
  if (!p) return;
  if (&s == p->candidate.get()) {
    bury(std::move(p->candidate));
    return;
  }
  p->since = loop_.now();
  p->last_error = p->stop_reason.empty() ? reason : std::exchange(p->stop_reason, {});
  if (rib_.is_up(p->id)) {
    size_t n = rib_.accepted_from(p->id);
    if (n) log().info("peer {}: dropped {} received routes", p->cfg.name(), n);
    rib_.peer_down(p->id);
    note_bulk(n);
    flush_all();
  }
  if (auto i = index_of(*p); on_peer_state && i) on_peer_state(*i, s.state());
  // A promoted inbound candidate is passive; an active peer needs its own session back.
  if (!shutting_down_ && s.fsm_config().passive != p->cfg.passive) {
    bury(std::move(p->session));
    p->session = make_session(p->cfg);
    p->session->start();
  }
}

void Speaker::on_message(Session& s, const Message& m) {
  Peer* p = find(s);
  if (!p) return;
  if (std::holds_alternative<RouteRefresh>(m)) {
    rib_.refresh(p->id);
    flush_now(*p);
    return;
  }
  const auto* u = std::get_if<Update>(&m);
  if (!u) return;
  ++p->updates_in;
  for (const auto& d : u->diagnostics) log().warn("peer {}: UPDATE: {}", p->cfg.name(), d);
  if (u->ignored_local_pref && !std::exchange(p->local_pref_noted, true))
    log().debug(
        "peer {}: LOCAL_PREF from an external peer ignored (RFC 4271 5.1.5); "
        "said once per session",
        p->cfg.name());
  if (auto eor = u->end_of_rib()) {
    log().info("peer {}: End-of-RIB for {} unicast", p->cfg.name(),
               eor->afi == kAfiIpv6 ? "IPv6" : "IPv4");
  }
  const bool debug = log().should_log(spdlog::level::debug);
  const auto withdrawn = u->withdrawn_all();
  rib_.withdraw(p->id, withdrawn);
  if (debug)
    for (const auto& pfx : withdrawn)
      log().debug("peer {}: withdrawn {}", p->cfg.name(), pfx.to_string());
  rib::Accepted worst = rib::Accepted::yes;
  if (!u->treat_as_withdraw) {
    // One attribute set per family for the whole UPDATE: interned once, not per prefix.
    auto add = [&](const std::vector<Prefix>& prefixes, const IpAddress& nh) {
      PathAttributes attrs = u->attrs;
      attrs.next_hop = nh;
      // describe() builds a string per prefix: only pay for it when it will be printed.
      if (debug)
        for (const auto& pfx : prefixes)
          log().debug("peer {}: received {}", p->cfg.name(), describe(pfx, u->attrs, nh));
      auto each = [&](const Prefix& pfx, rib::Accepted a) {
        if (a == rib::Accepted::rejected_by_policy || a == rib::Accepted::rejected_loop)
          log().debug("peer {}: rejected {} ({})", p->cfg.name(), pfx.to_string(),
                      a == rib::Accepted::rejected_loop ? "own AS in path" : "import policy");
      };
      auto a = debug ? rib_.announce(p->id, prefixes, std::move(attrs), each)
                     : rib_.announce(p->id, prefixes, std::move(attrs));
      if (a == rib::Accepted::limit_exceeded ||
          (a == rib::Accepted::warning_threshold && worst == rib::Accepted::yes))
        worst = a;
    };
    if (!u->nlri.empty() && u->attrs.next_hop) add(u->nlri, *u->attrs.next_hop);
    if (u->mp_reach && !u->mp_reach->nlri.empty()) add(u->mp_reach->nlri, u->mp_reach->next_hop);
  }
  note_bulk(u->nlri.size() + u->withdrawn.size() + (u->mp_reach ? u->mp_reach->nlri.size() : 0) +
            (u->mp_unreach ? u->mp_unreach->withdrawn.size() : 0));
  if (auto i = index_of(*p); on_update && i) on_update(*i, *u);
  if (worst != rib::Accepted::yes) on_limit(*p, worst);
  flush_soon();
}

void Speaker::on_limit(Peer& p, rib::Accepted a) {
  const auto& mp = p.cfg.max_prefix;
  if (a == rib::Accepted::warning_threshold) {
    log().warn("peer {}: {} routes accepted, {}% of the max-prefix limit {}", p.cfg.name(),
               rib_.accepted_from(p.id), mp.warning_percent, mp.limit);
    return;
  }
  if (!mp.restart) {
    log().warn("peer {}: {} routes accepted, over the max-prefix limit {} (warn only)",
               p.cfg.name(), rib_.accepted_from(p.id), mp.limit);
    return;
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(mp.restart_after).count();
  log().error("peer {}: over the max-prefix limit {}: closing the session, restart in {}s",
              p.cfg.name(), mp.limit, secs);
  p.session->stop(err::kCeaseMaxPrefixes);
  // The session reports its own stop as administrative; say which limit it was.
  p.stop_reason = "over the max-prefix limit of " + std::to_string(mp.limit) +
                  " routes (sent Cease/Maximum Number of Prefixes Reached)";
  p.max_prefix_restart.arm(mp.restart_after, [this, &p] {
    if (shutting_down_) return;
    if (p.session && p.session->state() != State::idle) return;
    bury(std::move(p.session));
    p.session = make_session(p.cfg);
    p.session->start();
  });
}

void Speaker::note_bulk(size_t routes) {
  bulk_routes_ += routes;
  if (bulk_routes_ < 10000) return;
  last_bulk_ = loop_.now();
  if (trim_.armed()) return;
  bulk_since_ = last_bulk_;
  trim_when_quiet(std::chrono::seconds(1));
}

void Speaker::trim_when_quiet(Duration after) {
  trim_.arm(after, [this] {
    // Under endless churn it still happens, every ten seconds at most.
    Duration quiet = loop_.now() - last_bulk_;
    if (quiet < std::chrono::seconds(1) && loop_.now() - bulk_since_ < std::chrono::seconds(10)) {
      trim_when_quiet(std::chrono::seconds(1) - quiet);
      return;
    }
    bulk_routes_ = 0;
    if (release_memory) release_memory();
  });
}

bool Speaker::is_vip(const Prefix& p) const {
  return std::any_of(cfg_.vips.begin(), cfg_.vips.end(),
                     [&](const VipConfig& v) { return v.prefix == p; });
}

void Speaker::flush_all() {
  for (auto& p : peers_) flush(*p);
}

void Speaker::flush_soon() {
  if (flush_soon_.armed()) return;
  flush_soon_.arm(Duration::zero(), [this] { flush_all(); });
}

void Speaker::flush(Peer& p) {
  if (!p.session || p.session->state() != State::established || !rib_.outbound_pending(p.id))
    return;
  if (p.cfg.mrai == Duration::zero() || loop_.now() - p.last_flush >= p.cfg.mrai) {
    flush_now(p);
    return;
  }
  if (p.mrai.armed()) return;
  p.mrai.arm(p.last_flush + p.cfg.mrai - loop_.now(), [this, &p] { flush_now(p); });
}

void Speaker::flush_now(Peer& p) {
  if (!p.session || p.session->state() != State::established) return;
  Session& s = *p.session;
  auto out = rib_.take_outbound(p.id);
  p.last_flush = loop_.now();
  if (out.empty()) return;
  note_bulk(out.size());
  const BatchLogLevel levels;
  // is_vip() walks the VIP list: asked only when something would be logged at all.
  auto level_for = [&](const Prefix& pfx) {
    return levels.any() ? levels.for_route(is_vip(pfx)) : std::nullopt;
  };
  // IPv4 and IPv6 withdrawals go in separate UPDATEs; a table is nearly always one family.
  std::vector<Prefix> v6;
  auto v4_end = std::stable_partition(out.withdraw.begin(), out.withdraw.end(),
                                      [](const Prefix& x) { return x.family() == Family::v4; });
  v6.assign(v4_end, out.withdraw.end());
  out.withdraw.erase(v4_end, out.withdraw.end());
  for (auto* list : {&out.withdraw, &v6}) {
    for (auto& msg : pack_withdraw(*list, s.codec())) {
      s.send_encoded(std::move(msg));
      ++p.updates_out;
    }
    for (const auto& pfx : *list)
      if (auto level = level_for(pfx))
        log().log(*level, "peer {}: withdrew {}", p.cfg.name(), pfx.to_string());
  }
  for (const auto& g : out.announce) {
    auto packed = pack_announce(*g.attrs, g.next_hop, g.prefixes, s.codec());
    if (!packed) {
      // RFC 4271 §9.2: a route that cannot fit is not advertised. An earlier version of it
      // the peer may hold is withdrawn, so it does not keep a path we no longer have.
      log().warn("peer {}: not announcing {} prefixes ({}{}): {}{}", p.cfg.name(),
                 g.prefixes.size(), g.prefixes.front().to_string(),
                 g.prefixes.size() > 1 ? ", ..." : "", packed.error(),
                 s.codec().extended_message ? "" : " (without extended messages, RFC 8654)");
      for (auto& msg : pack_withdraw(g.prefixes, s.codec())) {
        s.send_encoded(std::move(msg));
        ++p.updates_out;
      }
      continue;
    }
    for (auto& msg : *packed) {
      s.send_encoded(std::move(msg));
      ++p.updates_out;
    }
    for (const auto& pfx : g.prefixes)
      if (auto level = level_for(pfx))
        log().log(*level, "peer {}: announced {} path [{}] next-hop {}", p.cfg.name(),
                  pfx.to_string(), g.attrs->as_path ? g.attrs->as_path->to_string() : "",
                  g.next_hop.to_string());
  }
  if (out.size() > 100)
    log().info("peer {}: sent {} announcements and {} withdrawals", p.cfg.name(),
               out.size() - out.withdraw.size(), out.withdraw.size());
}

std::map<Prefix, HeldRoute> Speaker::received(size_t i) const {
  std::map<Prefix, HeldRoute> out;
  for (const auto& [prefix, path] : rib_.received_from(peers_.at(i)->id)) {
    HeldRoute r{*path->attrs, *path->attrs->next_hop};
    r.attrs.next_hop.reset();
    out.emplace(prefix, std::move(r));
  }
  return out;
}

void Speaker::set_vip(const Prefix& vip, const VipAnnouncement& a) {
  auto it = std::find_if(cfg_.vips.begin(), cfg_.vips.end(),
                         [&](const VipConfig& v) { return v.prefix == vip; });
  if (it == cfg_.vips.end() || shutting_down_) return;
  auto cur = up_vips_.find(vip);
  if (a.announce ? (cur != up_vips_.end() && cur->second == a) : cur == up_vips_.end()) return;
  if (a.announce) {
    up_vips_[vip] = a;
    rib_.originate(vip, vip_attributes(*it, cfg_.local_as, a));
  } else {
    up_vips_.erase(vip);
    rib_.retract(vip);
  }
  // A VIP change is the one thing that must not wait for an MRAI.
  for (auto& p : peers_) flush_now(*p);
}

void Speaker::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  listener_.reset();
  for (const auto& v : cfg_.vips) rib_.retract(v.prefix);
  up_vips_.clear();
  for (auto& p : peers_) {
    p->max_prefix_restart.cancel();
    // An orderly stop, not a failure, for the neighbour's BFD (RFC 5882 §3.2).
    if (p->bfd) p->bfd->session().set_admin_down(true);
    if (!p->session) continue;
    flush_now(*p);
    p->session->stop(err::kCeaseAdminShutdown);
    if (p->candidate) p->candidate->stop(err::kCeaseAdminShutdown);
  }
  posts_.post(std::move(done));
}

std::map<Prefix, HeldRoute> Speaker::advertised(size_t i) const {
  const auto& p = *peers_.at(i);
  std::map<Prefix, HeldRoute> out;
  if (!rib_.is_up(p.id)) return out;
  for (const auto& [prefix, e] : rib_.advertised(p.id))
    out.emplace(prefix, HeldRoute{*e.attrs, e.next_hop});
  return out;
}

Speaker::PeerInfo Speaker::peer_info(size_t i) const {
  const auto& p = *peers_.at(i);
  PeerInfo out;
  out.state = peer_state(i);
  out.since = p.since;
  out.last_error = p.last_error;
  out.accepted = rib_.is_up(p.id) ? rib_.accepted_from(p.id) : 0;
  out.updates_in = p.updates_in;
  out.updates_out = p.updates_out;
  out.advertised = rib_.is_up(p.id) ? rib_.advertised_count(p.id) : 0;
  out.established_count = p.established_count;
  if (p.session) {
    // Failing connects never bring a session down, yet they are the news an operator
    // needs (an MD5 key, a GTSM hop count), newer than why the last session ended.
    if (!p.session->connect_error().empty()) out.last_error = p.session->connect_error();
    out.retry_at = p.session->retry_at();
    out.failures = p.session->fsm().failures;
    const auto& f = p.session->fsm();
    if (f.peer_open && (f.state == State::open_confirm || f.state == State::established)) {
      out.peer_hold_time = f.peer_open->hold_time;
      out.hold_time = f.hold_time;
    }
  }
  if (p.bfd) out.bfd = &p.bfd->session();
  out.bfd_error = p.bfd_error;
  return out;
}

State Speaker::peer_state(size_t i) const {
  const auto& s = peers_.at(i)->session;
  return s ? s->state() : State::idle;
}

Speaker::Peer* Speaker::find(const Session& s) {
  for (auto& p : peers_)
    if (p->session.get() == &s || p->candidate.get() == &s) return p.get();
  return nullptr;
}

std::optional<size_t> Speaker::index_of(const Peer& p) const {
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i].get() == &p) return i;
  return std::nullopt;
}

void Speaker::bury(std::unique_ptr<Session> s) {
  if (!s) return;
  graveyard_.push_back(std::move(s));
  if (!graveyard_timer_.armed())
    graveyard_timer_.arm(Duration::zero(), [this] { graveyard_.clear(); });
}

}  // namespace anycastd::bgp
