#include "bgp/speaker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "bgp/wire/packer.hpp"

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

std::string describe(const Prefix& p, const ReceivedRoute& r) {
  std::string out = p.to_string() + " path [" +
                    (r.attrs.as_path ? r.attrs.as_path->to_string() : std::string()) +
                    "] next-hop " + r.next_hop.to_string();
  if (r.attrs.med) out += " med " + std::to_string(*r.attrs.med);
  if (r.attrs.local_pref) out += " local-pref " + std::to_string(*r.attrs.local_pref);
  if (!r.attrs.communities.empty()) {
    out += " communities [";
    for (size_t i = 0; i < r.attrs.communities.size(); ++i)
      out += (i ? " " : "") + community_to_string(r.attrs.communities[i]);
    out += "]";
  }
  if (!r.attrs.large_communities.empty()) {
    out += " large-communities [";
    for (size_t i = 0; i < r.attrs.large_communities.size(); ++i)
      out += (i ? " " : "") + large_community_to_string(r.attrs.large_communities[i]);
    out += "]";
  }
  return out;
}

}  // namespace

Speaker::Speaker(Loop& loop, Transport& transport, SpeakerConfig cfg, uint64_t seed)
    : loop_(loop), transport_(transport), cfg_(std::move(cfg)), seed_(seed) {
  base_fsm_.local_as = cfg_.local_as;
  base_fsm_.bgp_id = cfg_.router_id;
  base_fsm_.caps.multiprotocol = {kV4, kV6};
  base_fsm_.caps.route_refresh = true;
  // Graceful-restart aware but preserving nothing: a dead NVA's VIP must go at once, not
  // linger for a restart time.
  base_fsm_.caps.graceful_restart = GracefulRestart{false, 0, {}};
  for (const auto& v : cfg_.vips) up_vips_.insert(v.prefix);
  for (const auto& pc : cfg_.peers) {
    auto p = std::make_unique<Peer>();
    p->cfg = pc;
    peers_.push_back(std::move(p));
  }
}

Speaker::~Speaker() = default;

std::unique_ptr<Session> Speaker::make_session(const PeerConfig& pc) {
  FsmConfig f = base_fsm_;
  f.peer_as = pc.remote_as;
  f.hold_time = pc.hold_time;
  f.passive = pc.passive;
  f.connect_retry = pc.connect_retry;
  return std::make_unique<Session>(loop_, transport_, pc, f, static_cast<SessionObserver&>(*this),
                                   seed_);
}

Result<bool, std::string> Speaker::start() {
  if (cfg_.listen_address) {
    auto l = transport_.listen({*cfg_.listen_address, cfg_.listen_port},
                               [this](std::unique_ptr<Stream> s) { accept(std::move(s)); });
    if (!l) return Err(std::string("cannot listen: ") + l.error());
    listener_ = std::move(l).value();
    spdlog::info("listening for BGP on {}", listener_->local().to_string());
  }
  for (auto& p : peers_) {
    p->session = make_session(p->cfg);
    p->session->start();
  }
  return true;
}

void Speaker::accept(std::unique_ptr<Stream> stream) {
  auto from = stream->remote();
  auto it = std::find_if(peers_.begin(), peers_.end(),
                         [&](const auto& p) { return p->cfg.address == from.address; });
  if (shutting_down_ || it == peers_.end()) {
    spdlog::warn("refused BGP connection from {}: {}", from.to_string(),
                 shutting_down_ ? "shutting down" : "not a configured peer");
    stream->close();
    return;
  }
  Peer& p = **it;
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
  spdlog::info("peer {}: refused extra connection from {} (session is {})", p.cfg.name(),
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
  spdlog::info("peer {}: connection collision, keeping the {} connection", p->cfg.name(),
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
  if (on_peer_state) on_peer_state(index_of(*p), State::established);
  if (shutting_down_) return;
  std::vector<const VipConfig*> vips;
  for (const auto& v : cfg_.vips)
    if (up_vips_.count(v.prefix)) vips.push_back(&v);
  announce(*p, vips, true);
}

void Speaker::on_down(Session& s, const std::string&) {
  Peer* p = find(s);
  if (!p) return;
  if (&s == p->candidate.get()) {
    bury(std::move(p->candidate));
    return;
  }
  if (!p->rib_in.empty()) {
    spdlog::info("peer {}: dropped {} received routes", p->cfg.name(), p->rib_in.size());
    p->rib_in.clear();
  }
  if (on_peer_state) on_peer_state(index_of(*p), s.state());
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
    std::vector<const VipConfig*> vips;
    for (const auto& v : cfg_.vips)
      if (up_vips_.count(v.prefix)) vips.push_back(&v);
    announce(*p, vips, false);
    return;
  }
  const auto* u = std::get_if<Update>(&m);
  if (!u) return;
  for (const auto& d : u->diagnostics) spdlog::warn("peer {}: UPDATE: {}", p->cfg.name(), d);
  if (auto eor = u->end_of_rib()) {
    spdlog::info("peer {}: End-of-RIB for {} unicast", p->cfg.name(),
                 eor->afi == kAfiIpv6 ? "IPv6" : "IPv4");
  }
  auto withdrawn = u->withdrawn_all();
  for (const auto& pfx : withdrawn) {
    if (p->rib_in.erase(pfx))
      spdlog::debug("peer {}: withdrawn {}", p->cfg.name(), pfx.to_string());
  }
  size_t added = 0;
  if (!u->treat_as_withdraw) {
    auto add = [&](const Prefix& pfx, const IpAddress& nh) {
      ReceivedRoute r{u->attrs, nh};
      r.attrs.next_hop.reset();
      // describe() builds a string per prefix: only pay for it when it will be printed.
      if (spdlog::should_log(spdlog::level::debug))
        spdlog::debug("peer {}: received {}", p->cfg.name(), describe(pfx, r));
      p->rib_in[pfx] = std::move(r);
      ++added;
    };
    for (const auto& pfx : u->nlri)
      if (u->attrs.next_hop) add(pfx, *u->attrs.next_hop);
    if (u->mp_reach)
      for (const auto& pfx : u->mp_reach->nlri) add(pfx, u->mp_reach->next_hop);
  }
  if (on_update) on_update(index_of(*p), *u);
}

void Speaker::announce(Peer& p, const std::vector<const VipConfig*>& vips, bool end_of_rib) {
  Session& s = *p.session;
  if (s.state() != State::established) return;
  auto local = s.local_endpoint();
  IpAddress self = local ? local->address : IpAddress{};
  struct Group {
    VipAdvert advert;
    std::vector<Prefix> prefixes;
  };
  std::vector<Group> groups;
  for (const auto* v : vips) {
    AfiSafi fam = v->prefix.family() == Family::v6 ? kV6 : kV4;
    if (!carries(s, fam)) continue;
    auto adv = vip_advert(*v, cfg_.local_as, p.cfg, self);
    if (!adv) {
      spdlog::warn("peer {}: VIP {} not announced: no {} next hop", p.cfg.name(),
                   v->prefix.to_string(), fam == kV6 ? "IPv6" : "IPv4");
      continue;
    }
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.advert.next_hop == adv->next_hop && g.advert.attrs == adv->attrs;
    });
    if (g == groups.end()) {
      groups.push_back({*adv, {}});
      g = groups.end() - 1;
    }
    g->prefixes.push_back(v->prefix);
  }
  for (const auto& g : groups) {
    for (auto& msg : pack_announce(g.advert.attrs, g.advert.next_hop, g.prefixes, s.codec()))
      s.send_encoded(std::move(msg));
    for (const auto& pfx : g.prefixes)
      spdlog::info("peer {}: announced {} path [{}] next-hop {}", p.cfg.name(), pfx.to_string(),
                   g.advert.attrs.as_path->to_string(), g.advert.next_hop.to_string());
  }
  if (end_of_rib) {
    for (auto fam : {kV4, kV6})
      if (carries(s, fam)) s.send_encoded(bgp::end_of_rib(fam, s.codec()));
  }
}

void Speaker::withdraw(Peer& p, const std::vector<Prefix>& prefixes) {
  Session& s = *p.session;
  if (s.state() != State::established) return;
  std::vector<Prefix> v4, v6;
  for (const auto& pfx : prefixes) {
    if (pfx.family() == Family::v4 && carries(s, kV4)) v4.push_back(pfx);
    if (pfx.family() == Family::v6 && carries(s, kV6)) v6.push_back(pfx);
  }
  for (auto* list : {&v4, &v6}) {
    for (auto& msg : pack_withdraw(*list, s.codec())) s.send_encoded(std::move(msg));
    for (const auto& pfx : *list)
      spdlog::info("peer {}: withdrew {}", p.cfg.name(), pfx.to_string());
  }
}

void Speaker::set_vip_up(const Prefix& vip, bool up) {
  auto it = std::find_if(cfg_.vips.begin(), cfg_.vips.end(),
                         [&](const VipConfig& v) { return v.prefix == vip; });
  if (it == cfg_.vips.end() || up == vip_up(vip)) return;
  if (up) {
    up_vips_.insert(vip);
  } else {
    up_vips_.erase(vip);
  }
  for (auto& p : peers_) {
    if (up) {
      announce(*p, {&*it}, false);
    } else {
      withdraw(*p, {vip});
    }
  }
}

void Speaker::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  listener_.reset();
  std::vector<Prefix> all(up_vips_.begin(), up_vips_.end());
  for (auto& p : peers_) {
    if (!p->session) continue;
    withdraw(*p, all);
    p->session->stop(err::kCeaseAdminShutdown);
    if (p->candidate) p->candidate->stop(err::kCeaseAdminShutdown);
  }
  loop_.post(std::move(done));
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

size_t Speaker::index_of(const Peer& p) const {
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i].get() == &p) return i;
  return 0;
}

void Speaker::bury(std::unique_ptr<Session> s) {
  if (!s) return;
  graveyard_.push_back(std::move(s));
  if (graveyard_.size() == 1)
    loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) graveyard_.clear();
    });
}

}  // namespace anycastd::bgp
