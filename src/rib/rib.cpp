#include "rib/rib.hpp"

#include <algorithm>

namespace anycastd::rib {

namespace {

constexpr uint32_t kDefaultLocalPref = 100;

size_t own_as_count(const bgp::PathAttributes& a, uint32_t asn) {
  if (!a.as_path) return 0;
  size_t n = 0;
  for (const auto& seg : a.as_path->segments)
    n += std::count(seg.asns.begin(), seg.asns.end(), asn);
  return n;
}

// Whether a policy's verdict or rewrite can differ between prefixes with the same
// attributes: only prefix lists look at the prefix.
bool depends_on_prefix(const policy::Policy& pol) {
  return std::any_of(pol.terms.begin(), pol.terms.end(),
                     [](const policy::Term& t) { return !t.match.prefixes.empty(); });
}

}  // namespace

const Path* Entry::best() const {
  for (const auto& p : paths)
    if (p.best) return &p;
  return nullptr;
}

size_t Outbound::size() const {
  size_t n = withdraw.size();
  for (const auto& g : announce) n += g.prefixes.size();
  return n;
}

Rib::Rib(RibConfig cfg) : cfg_(std::move(cfg)) {
  PeerState local;
  local.neighbour.local = true;
  local.neighbour.asn = cfg_.local_as;
  local.neighbour.router_id = cfg_.router_id;
  peers_.push_back(std::move(local));
}

PeerId Rib::add_peer(PeerSettings s) {
  PeerState st;
  st.neighbour.address = s.address;
  st.neighbour.asn = s.asn;
  st.neighbour.ibgp = s.asn == cfg_.local_as;
  st.settings = std::move(s);
  peers_.push_back(std::move(st));
  return static_cast<PeerId>(peers_.size() - 1);
}

void Rib::peer_up(PeerId id, uint32_t router_id, std::optional<IpAddress> self_v4,
                  std::optional<IpAddress> self_v6, bool v4, bool v6) {
  auto& p = peers_.at(id);
  if (!p.up) ++peers_up_;
  p.up = true;
  p.neighbour.router_id = router_id;
  p.self_v4 = self_v4;
  p.self_v6 = self_v6;
  p.v4 = v4;
  p.v6 = v6;
  p.forget_all();
  p.full_export = true;
  p.cursor = log_base_ + log_.size();
}

void Rib::peer_down(PeerId id) {
  auto& p = peers_.at(id);
  if (p.up) --peers_up_;
  p.up = false;
  p.forget_all();
  p.full_export = false;
  p.warned = false;
  if (p.received.size() == 0) return;
  // Only where it has paths; erasing leaves the other entries where they are.
  std::vector<uint32_t> held;
  held.reserve(p.received.size());
  p.received.for_each([&](uint32_t pos) { held.push_back(pos); });
  for (uint32_t pos : held) remove_at(id, PrefixMap<Entry>::iterator(&loc_, pos));
  trim_log();
}

std::optional<Accepted> Rib::refused(const PeerState& p, const bgp::PathAttributes& attrs) const {
  if (own_as_count(attrs, cfg_.local_as) > p.settings.allow_own_as) return Accepted::rejected_loop;
  // RFC 4456 §8: our own route reflected back to us, or one that went round our cluster.
  if ((attrs.originator_id && *attrs.originator_id == cfg_.router_id) ||
      std::find(attrs.cluster_list.begin(), attrs.cluster_list.end(), cfg_.router_id) !=
          attrs.cluster_list.end())
    return Accepted::rejected_loop;
  if (!p.settings.import && !p.neighbour.ibgp) return Accepted::rejected_by_policy;
  return std::nullopt;
}

Accepted Rib::limit_check(PeerState& p) {
  const auto& s = p.settings;
  if (s.max_prefix) {
    if (p.received.size() > s.max_prefix) return Accepted::limit_exceeded;
    if (!p.warned && p.received.size() * 100 >= uint64_t{s.max_prefix} * s.max_prefix_warning) {
      p.warned = true;
      return Accepted::warning_threshold;
    }
  }
  return Accepted::yes;
}

Accepted Rib::announce(PeerId from, const Prefix& prefix, bgp::PathAttributes attrs) {
  auto& p = peers_.at(from);
  if (auto why = refused(p, attrs)) {
    remove(from, prefix);
    return *why;
  }
  if (const policy::Policy* import = p.settings.import) {
    policy::Context ctx{cfg_.local_as, std::nullopt, p.settings.address};
    if (!policy::evaluate(*import, prefix, attrs, ctx)) {
      remove(from, prefix);
      return Accepted::rejected_by_policy;
    }
  }
  put(from, prefix, store_.intern(std::move(attrs)));
  return limit_check(p);
}

Accepted Rib::announce(PeerId from, const std::vector<Prefix>& prefixes, bgp::PathAttributes attrs,
                       const std::function<void(const Prefix&, Accepted)>& each) {
  auto& p = peers_.at(from);
  Accepted worst = Accepted::yes;
  if (prefixes.empty()) return worst;
  auto note = [&](const Prefix& prefix, Accepted a) {
    if (each) each(prefix, a);
    if (a == Accepted::limit_exceeded ||
        (a == Accepted::warning_threshold && worst == Accepted::yes))
      worst = a;
  };
  const policy::Policy* import = p.settings.import;
  if (import && depends_on_prefix(*import)) {
    for (const auto& prefix : prefixes) note(prefix, announce(from, prefix, attrs));
    return worst;
  }
  std::optional<Accepted> why = refused(p, attrs);
  Attrs shared;
  if (!why) {
    policy::Context ctx{cfg_.local_as, std::nullopt, p.settings.address};
    // The policy reads no prefix, so any one stands for all of them.
    if (import && !policy::evaluate(*import, prefixes.front(), attrs, ctx))
      why = Accepted::rejected_by_policy;
    else
      shared = store_.intern(std::move(attrs));
  }
  for (const auto& prefix : prefixes) loc_.prefetch(prefix);
  for (const auto& prefix : prefixes) {
    if (why) {
      remove(from, prefix);
      note(prefix, *why);
      continue;
    }
    put(from, prefix, shared);
    note(prefix, limit_check(p));
  }
  return worst;
}

void Rib::withdraw(PeerId from, const Prefix& prefix) {
  remove(from, prefix);
}

void Rib::withdraw(PeerId from, const std::vector<Prefix>& prefixes) {
  constexpr size_t kAhead = 8;
  const size_t n = prefixes.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + 2 * kAhead < n) loc_.prefetch(prefixes[i + 2 * kAhead]);
    if (i + kAhead < n) loc_.prefetch_entry(prefixes[i + kAhead]);
    remove(from, prefixes[i]);
  }
}

void Rib::originate(const Prefix& prefix, bgp::PathAttributes attrs) {
  put(kLocal, prefix, store_.intern(std::move(attrs)));
}

void Rib::retract(const Prefix& prefix) {
  remove(kLocal, prefix);
}

void Rib::put(PeerId from, const Prefix& prefix, Attrs attrs) {
  auto [slot, fresh] = loc_.try_emplace(prefix);
  created_ += fresh;
  const uint32_t pos = slot.position();
  Entry& e = loc_.value_at(pos);
  auto it =
      std::find_if(e.paths.begin(), e.paths.end(), [&](const Path& x) { return x.peer == from; });
  if (it != e.paths.end() && it->attrs == attrs) return;  // a re-announcement with nothing new
  Before before = snapshot(e);
  if (it != e.paths.end()) {
    it->attrs = std::move(attrs);
    it->arrival = ++arrivals_;
  } else {
    e.paths.push_back(Path{from, 0, std::move(attrs), ++arrivals_});
    peers_[from].received.set(pos, true);
  }
  recompute(prefix, pos, e, before);
}

bool Rib::remove(PeerId from, const Prefix& prefix) {
  auto eit = loc_.find(prefix);
  if (eit == loc_.end()) return false;
  return remove_at(from, eit);
}

bool Rib::remove_at(PeerId from, PrefixMap<Entry>::iterator eit) {
  const uint32_t pos = eit.position();
  Entry& e = loc_.value_at(pos);
  auto it =
      std::find_if(e.paths.begin(), e.paths.end(), [&](const Path& x) { return x.peer == from; });
  if (it == e.paths.end()) return false;
  const Prefix prefix = loc_.prefix_at(pos);
  // The usual case (the only path goes) needs no before-and-after comparison.
  const bool last = e.paths.size() == 1;
  Before before = last ? Before{} : snapshot(e);
  e.paths.erase(it);
  peers_[from].received.set(pos, false);
  if (last) {
    // Whoever holds the prefix hears of its withdrawal at their next export; the
    // position is reused, so its bits are cleared now.
    for (auto& q : peers_)
      if (q.up && q.has(pos)) {
        q.mark(pos, false);
        q.gone.push_back(prefix);
      }
    loc_.erase(eit);
    changed(prefix, pos, nullptr, false);
    return true;
  }
  recompute(prefix, pos, e, before);
  return true;
}

Rib::Before Rib::snapshot(const Entry& e) {
  Before b;
  for (const auto& x : e.paths) {
    if (x.best) {
      b.peer = x.peer;
      b.attrs = x.attrs;  // owned, so a freed set cannot come back at the same address
    }
    if (x.multipath) b.multipath.push_back(x.peer);
  }
  return b;
}

void Rib::recompute(const Prefix& prefix, uint32_t pos, Entry& e, const Before& before) {
  size_t best = 0;
  for (size_t i = 1; i < e.paths.size(); ++i) {
    const auto& a = e.paths[i];
    const auto& b = e.paths[best];
    if (compare(a, peers_[a.peer].neighbour, b, peers_[b.peer].neighbour, cfg_.decision).order < 0)
      best = i;
  }
  size_t kept = 0;
  const Path& bp = e.paths[best];
  std::vector<PeerId> new_multi;
  for (size_t i = 0; i < e.paths.size(); ++i) {
    auto& x = e.paths[i];
    x.best = i == best;
    x.multipath = false;
    if (cfg_.decision.multipath > 1 && (i == best || kept + 1 < cfg_.decision.multipath)) {
      bool equal = i == best || compare(x, peers_[x.peer].neighbour, bp, peers_[bp.peer].neighbour,
                                        cfg_.decision, true)
                                        .order == 0;
      if (equal) {
        x.multipath = true;
        if (i != best) ++kept;
      }
    }
    if (x.multipath) new_multi.push_back(x.peer);
  }
  // Peers are sent the best path only: a change to the equal paths kept beside it is for
  // the FIB, not for export.
  const bool best_changed = bp.peer != before.peer || bp.attrs != before.attrs;
  if (best_changed || new_multi != before.multipath) changed(prefix, pos, &e, best_changed);
}

void Rib::changed(const Prefix& prefix, uint32_t pos, const Entry* e, bool for_export) {
  // A prefix that left the table reaches the peers that hold it through their `gone` list.
  if (peers_up_ > 0 && for_export) log_.push_back(pos);
  if (on_change) on_change(prefix, e);
}

const Entry* Rib::find(const Prefix& p) const {
  auto it = loc_.find(p);
  return it == loc_.end() ? nullptr : &loc_.value_at(it.position());
}

bgp::PathAttributes Exported::received() const {
  bgp::PathAttributes a = *attrs;
  a.next_hop = next_hop;
  return a;
}

std::optional<bgp::PathAttributes> Rib::export_for(PeerId to, const Prefix& prefix) const {
  auto it = loc_.find(prefix);
  if (it == loc_.end()) return std::nullopt;
  Exported e = export_path(peers_.at(to), to, prefix, it->second);
  if (!e) return std::nullopt;
  return e.received();
}

Exported Rib::export_path(const PeerState& to, PeerId to_id, const Prefix& prefix,
                          const Entry& e) const {
  const Path* best = e.best();
  if (!best || best->peer == to_id) return {};
  const bool v6 = prefix.family() == Family::v6;
  if (v6 ? !to.v6 : !to.v4) return {};
  const PeerState& from = peers_[best->peer];
  const bool local = best->peer == kLocal;
  const bool to_ibgp = to.neighbour.ibgp;
  // RFC 4456 §8: an iBGP route goes to another iBGP peer only through a reflector, and
  // only from a client or to a client.
  if (!local && from.neighbour.ibgp && to_ibgp && !from.settings.route_reflector_client &&
      !to.settings.route_reflector_client)
    return {};

  bgp::PathAttributes a = *best->attrs;
  const std::optional<IpAddress>& self = v6 ? to.self_v6 : to.self_v4;
  // The export policy governs learned routes; a VIP (or network) goes out by its own
  // settings, so `export: reject` toward a route server still announces the VIP.
  const policy::Policy* pol = local ? nullptr : to.settings.export_;
  if (pol) {
    policy::Context ctx{cfg_.local_as, self, from.settings.address};
    if (!policy::evaluate(*pol, prefix, a, ctx)) return {};
  } else if (!local && !to_ibgp) {
    return {};  // RFC 8212: no export policy, nothing learned goes to an eBGP peer
  }
  // What the export policy wrote is final; the eBGP rules below only fill in the rest.
  const bool policy_next_hop = pol && a.next_hop != best->attrs->next_hop;
  const bool policy_med = pol && a.med != best->attrs->med;

  if (to_ibgp) {
    a.local_pref = a.local_pref.value_or(kDefaultLocalPref);
    if (!a.next_hop) a.next_hop = self;
    // Reflection (RFC 4456 §8): name the originator once, and add our cluster (our router
    // id) in front of the list.
    if (!local && from.neighbour.ibgp) {
      if (!a.originator_id) a.originator_id = from.neighbour.router_id;
      a.cluster_list.insert(a.cluster_list.begin(), cfg_.router_id);
    }
  } else {
    // Optional non-transitive, and meaningful inside the AS only.
    a.originator_id.reset();
    a.cluster_list.clear();
    a.local_pref.reset();
    if (!to.settings.route_server_client) {
      a.as_path = a.as_path.value_or(bgp::AsPath{});
      a.as_path->prepend(cfg_.local_as);
      // A MED learned from one AS means nothing to the next (RFC 4271 §5.1.4); a VIP's
      // own MED is ours to send.
      if (!local && !policy_med) a.med.reset();
      if (!policy_next_hop && (!local || !a.next_hop)) a.next_hop = self;
    } else if (!a.next_hop) {
      a.next_hop = self;
    }
  }
  if (!a.next_hop || a.next_hop->family() != prefix.family()) return {};
  IpAddress nh = *a.next_hop;
  a.next_hop.reset();
  return {store_.intern(std::move(a)), nh};
}

Outbound Rib::take_outbound(PeerId to) {
  Outbound out;
  auto& p = peers_.at(to);
  if (!p.up) return out;
  struct GroupKey {
    const bgp::PathAttributes* attrs;
    IpAddress next_hop;
    bool operator==(const GroupKey&) const = default;
  };
  struct GroupHash {
    size_t operator()(const GroupKey& k) const {
      return hash_mix(reinterpret_cast<uintptr_t>(k.attrs), std::hash<IpAddress>{}(k.next_hop));
    }
  };
  std::unordered_map<GroupKey, size_t, GroupHash> group;
  // Export depends on the prefix only through its family, unless a policy term matches
  // prefixes: then routes sharing a source attribute set share the exported one, and a
  // full table costs one policy run per attribute set instead of one per prefix.
  const bool per_prefix = p.settings.export_ && depends_on_prefix(*p.settings.export_);
  struct Key {
    const bgp::PathAttributes* attrs;
    PeerId from;
    bool v6;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return hash_mix(hash_mix(reinterpret_cast<uintptr_t>(k.attrs), k.from), k.v6);
    }
  };
  std::unordered_map<Key, Exported, KeyHash> memo;
  // Neighbouring prefixes mostly share their attributes (they arrived in one UPDATE), so
  // the last answer is tried before the memo and the last group before the group index.
  Key last_key{nullptr, 0, false};
  Exported last_export;
  Exported last_group;
  size_t last_group_at = 0;
  auto exported = [&](const Prefix& prefix, const Entry& e) -> Exported {
    const Path* best = e.best();
    if (per_prefix || !best) return export_path(p, to, prefix, e);
    Key k{best->attrs.get(), best->peer, prefix.family() == Family::v6};
    if (k == last_key) return last_export;
    auto it = memo.find(k);
    if (it == memo.end()) it = memo.emplace(k, export_path(p, to, prefix, e)).first;
    last_key = k;
    last_export = it->second;
    return it->second;
  };
  auto group_of = [&](const Exported& want) -> size_t {
    if (want == last_group) return last_group_at;
    auto [g, fresh] =
        group.try_emplace(GroupKey{want.attrs.get(), want.next_hop}, out.announce.size());
    if (fresh) out.announce.push_back({want.attrs, want.next_hop, {}});
    last_group = want;
    last_group_at = g->second;
    return g->second;
  };
  auto consider = [&](uint32_t pos) {
    const auto& [prefix, e] = loc_.at(pos);
    if (Exported want = exported(prefix, e)) {
      out.announce[group_of(want)].prefixes.push_back(prefix);
      p.mark(pos, true);
    } else if (p.has(pos)) {
      p.mark(pos, false);
      out.withdraw.push_back(prefix);
    }
  };
  if (p.full_export) {
    for (uint32_t pos = 0; pos < loc_.positions(); ++pos)
      if (loc_.live(pos)) consider(pos);
    p.full_export = false;
  } else {
    // A prefix that changed several times is exported once, as it is now; in position
    // order, which is also the order of the table in memory.
    std::vector<uint32_t> changed;
    changed.reserve(log_base_ + log_.size() - p.cursor);
    // A logged position may have been freed since (the withdrawal went through `gone`)
    // or reused (the newcomer was logged too, and is exported as it is now either way).
    for (uint64_t i = p.cursor; i < log_base_ + log_.size(); ++i) {
      uint32_t pos = log_[i - log_base_];
      if (pos < loc_.positions() && loc_.live(pos)) changed.push_back(pos);
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (uint32_t pos : changed) consider(pos);
  }
  // Withdrawals of prefixes that left the table, unless one came back and was just sent
  // (none can have if no entry was created since the last export).
  if (p.created_seen == created_ && out.withdraw.empty()) {
    out.withdraw = std::move(p.gone);
  } else {
    for (const Prefix& prefix : p.gone) {
      auto it = loc_.find(prefix);
      if (it == loc_.end() || !p.has(it.position())) out.withdraw.push_back(prefix);
    }
  }
  std::vector<Prefix>().swap(p.gone);
  p.created_seen = created_;
  p.cursor = log_base_ + log_.size();
  trim_log();
  return out;
}

std::vector<std::pair<Prefix, const Path*>> Rib::received_from(PeerId id) const {
  std::vector<std::pair<Prefix, const Path*>> out;
  const auto& p = peers_.at(id);
  out.reserve(p.received.size());
  p.received.for_each([&](uint32_t pos) {
    for (const auto& path : loc_.value_at(pos).paths)
      if (path.peer == id) out.emplace_back(loc_.prefix_at(pos), &path);
  });
  return out;
}

std::vector<std::pair<Prefix, Exported>> Rib::advertised(PeerId id) const {
  std::vector<std::pair<Prefix, Exported>> out;
  const auto& p = peers_.at(id);
  if (!p.up) return out;
  for (auto it = loc_.begin(); it != loc_.end(); ++it)
    if (p.has(it.position()))
      if (Exported a = export_path(p, id, it->first, it->second)) out.emplace_back(it->first, a);
  return out;
}

void Rib::refresh(PeerId to) {
  auto& p = peers_.at(to);
  if (!p.up) return;
  p.full_export = true;
}

void Rib::reexport(PeerId to) {
  auto& p = peers_.at(to);
  if (p.up) p.full_export = true;
}

bool Rib::outbound_pending(PeerId to) const {
  const auto& p = peers_.at(to);
  return p.up && (p.full_export || !p.gone.empty() || p.cursor < log_base_ + log_.size());
}

void Rib::trim_log() {
  uint64_t end = log_base_ + log_.size();
  uint64_t low = end;
  for (const auto& p : peers_)
    if (p.up && !p.full_export) low = std::min(low, p.cursor);
  if (low == end) {
    log_base_ = end;
    log_.clear();
    // A full table's worth of changes is not kept reserved for the next one.
    if (log_.capacity() > 4096) log_.shrink_to_fit();
    return;
  }
  // Drop the consumed front only when it is most of the log, so trimming stays amortised.
  if (low - log_base_ > log_.size() / 2) {
    log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(low - log_base_));
    log_base_ = low;
  }
}

}  // namespace anycastd::rib
