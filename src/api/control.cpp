#include "api/control.hpp"

#include <map>

#include "api/request_fields.hpp"
#include "bgp/fsm.hpp"

namespace anycastd::api {

using nlohmann::json;

namespace {

double seconds_since(const Parts& d, TimePoint t) {
  if (t == TimePoint{}) return -1;  // never
  return std::chrono::duration<double>(d.loop->now() - t).count();
}

json fail(const std::string& why) {
  return {{"ok", false}, {"error", why}};
}

json peers(const Parts& d) {
  json out = json::array();
  if (!d.speaker) return out;
  for (size_t i = 0; i < d.speaker->peer_count(); ++i) {
    const auto& pc = d.speaker->config().peers[i];
    auto info = d.speaker->peer_info(i);
    out.push_back(
        {{"address", pc.address.to_string()},
         {"remote_as", pc.remote_as},
         {"state", bgp::to_string(info.state)},
         {"since_seconds", seconds_since(d, info.since)},
         {"accepted", info.accepted},
         {"advertised", info.advertised},
         {"updates_in", info.updates_in},
         {"updates_out", info.updates_out},
         {"established_count", info.established_count},
         {"last_error", info.last_error},
         {"errors_in_a_row", info.failures},
         // Timers: configured, offered by the peer, and negotiated (null until its OPEN).
         {"configured_hold_time", pc.hold_time},
         {"peer_hold_time", info.peer_hold_time ? json(*info.peer_hold_time) : json(nullptr)},
         {"hold_time", info.hold_time ? json(*info.hold_time) : json(nullptr)},
         {"keepalive", info.hold_time ? json(*info.hold_time / 3) : json(nullptr)},
         // Whether a TCP-MD5 key is configured; the key itself never leaves the daemon.
         {"password", pc.password.empty() ? json(nullptr) : json("set")},
         {"bfd", !pc.bfd    ? json(nullptr)
                 : info.bfd ? json(bfd::to_string(info.bfd->info().state))
                            : json("error")},
         // Seconds until an Idle peer tries again and accepts the neighbour; null
         // when it is not waiting.
         {"retry_in_seconds",
          info.retry_at ? json(std::max(0.0, -seconds_since(d, *info.retry_at))) : json(nullptr)}});
  }
  return out;
}

json bfd_sessions(const Parts& d) {
  json out = json::array();
  if (!d.speaker) return out;
  auto ms = [](Duration x) {
    return std::chrono::duration_cast<std::chrono::microseconds>(x).count() / 1000.0;
  };
  for (size_t i = 0; i < d.speaker->peer_count(); ++i) {
    const auto& pc = d.speaker->config().peers[i];
    if (!pc.bfd) continue;
    auto info = d.speaker->peer_info(i);
    json j = {
        {"peer", pc.address.to_string()}, {"multihop", pc.multihop > 0}, {"error", info.bfd_error}};
    if (info.bfd) {
      const auto& b = info.bfd->info();
      j.update({{"state", bfd::to_string(b.state)},
                {"remote_state", bfd::to_string(b.remote_state)},
                {"local_discriminator", b.local_disc},
                {"remote_discriminator", b.remote_disc},
                {"tx_interval_ms", ms(b.tx_interval)},
                {"detection_time_ms", ms(b.detection_time)},
                {"min_tx_ms", ms(pc.bfd->min_tx)},
                {"min_rx_ms", ms(pc.bfd->min_rx)},
                {"multiplier", pc.bfd->multiplier},
                {"remote_min_rx_ms", ms(b.remote_min_rx)},
                {"remote_min_tx_ms", ms(b.remote_min_tx)},
                {"remote_multiplier", b.remote_multiplier},
                {"local_diagnostic", bfd::to_string(b.local_diag)},
                {"remote_diagnostic", bfd::to_string(b.remote_diag)},
                {"transitions", b.transitions},
                {"packets_in", b.packets_in},
                {"packets_out", b.packets_out}});
    } else {
      j["state"] = "error";
    }
    out.push_back(j);
  }
  return out;
}

json vips(const Parts& d) {
  json out = json::array();
  if (!d.speaker) return out;
  for (const auto& v : d.speaker->config().vips) {
    json j = {{"prefix", v.prefix.to_string()},
              {"announced", d.speaker->vip_up(v.prefix)},
              {"state", d.speaker->vip_up(v.prefix) ? "announced" : "withdrawn"},
              {"reason", "no health checks"},
              {"since_seconds", -1.0}};
    if (d.monitor)
      if (const auto* h = d.monitor->vip(v.prefix)) {
        j["state"] = health::to_string(h->status());
        j["reason"] = h->reason();
        j["since_seconds"] = seconds_since(d, h->since());
      }
    out.push_back(j);
  }
  return out;
}

json checks(const Parts& d) {
  json out = json::array();
  if (!d.monitor) return out;
  for (const auto& c : d.monitor->checkers()) {
    const auto& st = c->state();
    json j = {
        {"name", c->config().name},
        {"up", st.up()},
        {"since_seconds", st.since() ? seconds_since(d, *st.since()) : -1.0},
        {"last", st.last() ? st.last()->describe() : "not run yet"},
        {"latency_ms",
         st.last() ? std::chrono::duration<double, std::milli>(st.last()->latency).count() : 0.0}};
    out.push_back(j);
  }
  return out;
}

json services(const Parts& d) {
  json out = json::array();
  if (!d.forwarder) return out;
  const auto& svcs = d.forwarder->config().services;
  for (size_t i = 0; i < svcs.size(); ++i) {
    auto st = d.forwarder->stats(i);
    json backends = json::array();
    for (size_t b = 0; b < svcs[i].backends.size(); ++b) {
      const auto& bs = st.backends[b];
      backends.push_back({{"address", svcs[i].backends[b].endpoint.to_string()},
                          {"weight", bs.weight},
                          {"configured_weight", svcs[i].backends[b].weight},
                          {"removed", bs.removed},
                          {"admin_state", proxy::to_string(bs.admin)},
                          {"healthy", bs.healthy},
                          {"connections", bs.connections},
                          {"active", bs.active},
                          {"failures", bs.failures},
                          {"bytes_in", bs.bytes_in},
                          {"bytes_out", bs.bytes_out}});
    }
    out.push_back({{"name", svcs[i].name},
                   {"listen", svcs[i].listen.to_string()},
                   {"protocol", svcs[i].protocol == proxy::Protocol::tcp ? "tcp" : "udp"},
                   {"draining", st.draining},
                   {"connections", st.connections},
                   {"active", st.active},
                   {"refused", st.refused},
                   {"dropped", st.dropped},
                   {"forwarding", st.forwarding},
                   {"kernel_connections", st.kernel_connections},
                   {"backends", backends}});
    if (!st.forwarding_reason.empty()) out.back()["forwarding_reason"] = st.forwarding_reason;
    if (st.forwarding == "nat")
      out.back()["nat_table"] = {{"established", st.nat.established}, {"opening", st.nat.opening},
                                 {"closing", st.nat.closing},         {"expired", st.nat.expired},
                                 {"takeovers", st.nat.takeovers},     {"full", st.nat.full},
                                 {"evicted", st.nat.evicted}};
  }
  return out;
}

json attributes(const bgp::PathAttributes& a, const std::optional<IpAddress>& next_hop) {
  std::string path;
  if (a.as_path)
    for (const auto& seg : a.as_path->segments) {
      bool set = seg.type != bgp::kAsSequence;
      if (!path.empty()) path += ' ';
      if (set) path += '{';
      for (size_t i = 0; i < seg.asns.size(); ++i)
        path += (i ? " " : "") + std::to_string(seg.asns[i]);
      if (set) path += '}';
    }
  json communities = json::array();
  for (auto c : a.communities) communities.push_back(bgp::community_to_string(c));
  for (const auto& c : a.large_communities)
    communities.push_back(bgp::large_community_to_string(c));
  json j = {{"as_path", path}, {"communities", communities}};
  // The ORIGIN attribute by RFC 4271's names; absent only on a malformed route.
  if (a.origin) j["origin"] = *a.origin == 0 ? "igp" : *a.origin == 1 ? "egp" : "incomplete";
  j["next_hop"] =
      next_hop ? next_hop->to_string() : (a.next_hop ? a.next_hop->to_string() : "self");
  j["local_pref"] = a.local_pref ? json(*a.local_pref) : json(nullptr);
  j["med"] = a.med ? json(*a.med) : json(nullptr);
  return j;
}

std::optional<Prefix> parse_vip(const std::string& text) {
  if (auto p = Prefix::parse(text)) return p;
  if (auto a = IpAddress::parse(text)) return Prefix(*a, a->is_v4() ? 32 : 128);
  return std::nullopt;
}

json routes(const json& req, const Parts& d) {
  auto prefix = optional_string(req, "prefix");
  if (!prefix) return fail(prefix.error());
  auto peer_text = optional_string(req, "peer");
  if (!peer_text) return fail(peer_text.error());
  auto view_text = optional_string(req, "view");
  if (!view_text) return fail(view_text.error());
  const std::string view = view_text->value_or("loc-rib");
  if (view != "loc-rib" && view != "received" && view != "advertised")
    return fail("\"view\" is loc-rib, received or advertised, not '" + view + "'");
  std::optional<Prefix> only;
  if (*prefix) {
    only = parse_vip(**prefix);
    if (!only) return fail("\"prefix\": '" + **prefix + "' is not a prefix or an address");
  }
  // BGP may be stopped while the API serves (the lab's stop-bgp): no routes to show.
  if (!d.speaker) return fail("BGP is not running");
  std::optional<size_t> peer;
  if (*peer_text) {
    auto a = IpAddress::parse(**peer_text);
    if (!a) return fail("\"peer\": '" + **peer_text + "' is not an address");
    for (size_t i = 0; i < d.speaker->peer_count(); ++i)
      if (d.speaker->config().peers[i].address == *a) peer = i;
    if (!peer) return fail("no peer " + a->to_string() + " in the configuration");
  }
  json out = json::array();
  auto add = [&](const Prefix& p, json j) {
    if (only && p != *only) return;
    j["prefix"] = p.to_string();
    out.push_back(std::move(j));
  };
  if (view == "received" || view == "advertised") {
    if (!peer) return fail("--" + view + " needs --peer");
    const auto& addr = d.speaker->config().peers[*peer].address.to_string();
    if (view == "received") {
      for (const auto& [p, r] : d.speaker->received(*peer)) {
        auto j = attributes(r.attrs, r.next_hop);
        j["from"] = addr;
        add(p, j);
      }
    } else {
      for (const auto& [p, r] : d.speaker->advertised(*peer)) {
        auto j = attributes(r.attrs, r.next_hop);
        j["to"] = addr;
        add(p, j);
      }
    }
    return {{"ok", true}, {"view", view}, {"routes", out}};
  }
  const auto& rib = d.speaker->rib();
  std::map<Prefix, const rib::Entry*> sorted;
  for (const auto& [p, e] : rib.loc_rib()) sorted.emplace(p, &e);
  for (const auto& [p, e] : sorted)
    for (const auto& path : e->paths) {
      std::string from =
          path.peer == rib::kLocal ? "local" : rib.neighbour(path.peer).address.to_string();
      if (peer && from != d.speaker->config().peers[*peer].address.to_string()) continue;
      auto j = attributes(*path.attrs, std::nullopt);
      j["from"] = from;
      j["best"] = path.best;
      j["multipath"] = path.multipath;
      add(p, j);
    }
  return {{"ok", true}, {"view", view}, {"routes", out}};
}

json drain(const json& req, const Parts& d, bool on) {
  auto vip = required_string(req, "vip");
  if (!vip) return fail(vip.error());
  auto p = parse_vip(*vip);
  if (!p) return fail("\"vip\": '" + *vip + "' is not a prefix or an address");
  if (!d.speaker) return fail("BGP is not running");
  bool known = false;
  for (const auto& v : d.speaker->config().vips) known |= v.prefix == *p;
  if (!known) return fail("no VIP " + p->to_string() + " in the configuration");
  if (!d.monitor || !d.monitor->vip(*p))
    return fail("VIP " + p->to_string() + " has no health settings; a drain needs them");
  on ? d.monitor->drain(*p) : d.monitor->undrain(*p);
  return {{"ok", true},
          {"vip", p->to_string()},
          {"state", health::to_string(d.monitor->vip(*p)->status())}};
}

std::string names_of(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out.empty() ? "none" : out;
}

// BACKEND is address:port, or the address alone when one backend of the service has it.
json backend(const json& req, const Parts& d) {
  auto service = required_string(req, "service");
  if (!service) return fail(service.error());
  auto which = required_string(req, "backend");
  if (!which) return fail(which.error());
  auto state_text = optional_string(req, "state");
  if (!state_text) return fail(state_text.error());
  auto weight = optional_integer(req, "weight", 0, proxy::kMaxWeight);
  if (!weight) return fail(weight.error());
  auto close = optional_bool(req, "close");
  if (!close) return fail(close.error());
  if (state_text->has_value() == weight->has_value())
    return fail("give one of \"state\" (ready, drain or maint) and \"weight\" (0 to " +
                std::to_string(proxy::kMaxWeight) + ")");
  std::optional<proxy::AdminState> state;
  if (*state_text) {
    state = proxy::admin_state_from(**state_text);
    if (!state) return fail("\"state\" is ready, drain or maint, not '" + **state_text + "'");
  }
  const bool closing = close->value_or(false);
  if (closing && state != proxy::AdminState::maint)
    return fail("\"close\" goes with state maint only (HAProxy's shutdown sessions)");
  if (!d.forwarder) return fail("no services are configured");
  const auto& svcs = d.forwarder->config().services;
  std::vector<std::string> known;
  size_t s = svcs.size();
  for (size_t i = 0; i < svcs.size(); ++i) {
    known.push_back(svcs[i].name);
    if (svcs[i].name == *service) s = i;
  }
  if (s == svcs.size())
    return fail("no service '" + *service + "' (there are: " + names_of(known) + ")");
  const auto& backends = svcs[s].backends;
  known.clear();
  std::vector<size_t> matches;
  const auto address = IpAddress::parse(*which);
  for (size_t b = 0; b < backends.size(); ++b) {
    known.push_back(backends[b].name());
    if (backends[b].name() == *which || (address && backends[b].endpoint.address == *address))
      matches.push_back(b);
  }
  if (matches.empty())
    return fail("service " + *service + " has no backend '" + *which +
                "' (it has: " + names_of(known) + ")");
  if (matches.size() > 1) {
    std::vector<std::string> these;
    for (auto b : matches) these.push_back(backends[b].name());
    return fail("'" + *which + "' is more than one backend of " + *service +
                ": name it with its port (" + names_of(these) + ")");
  }
  const size_t b = matches.front();
  if (state) d.forwarder->set_backend_admin(s, b, *state);
  if (closing) d.forwarder->close_backend_connections(s, b);
  if (*weight) d.forwarder->set_backend_weight(s, b, static_cast<uint32_t>(**weight));
  auto now = d.forwarder->stats(s).backends.at(b);
  return {{"ok", true},
          {"service", svcs[s].name},
          {"backend", backends[b].name()},
          {"state", proxy::to_string(now.admin)},
          {"weight", now.weight},
          {"closed", closing}};
}

}  // namespace

json handle(const json& req, const Parts& d) {
  if (!req.is_object()) return fail("a request is a JSON object with a \"command\"");
  auto command = required_string(req, "command");
  if (!command) return fail(command.error());
  const auto& cmd = *command;
  struct Command {
    std::string_view name;
    std::initializer_list<std::string_view> takes;
    json (*run)(const json&, const Parts&);
  };
  static const Command commands[] = {
      {"show peers",
       {},
       [](const json&, const Parts& p) -> json {
         return {{"ok", true}, {"peers", peers(p)}};
       }},
      {"show bfd",
       {},
       [](const json&, const Parts& p) -> json {
         return {{"ok", true}, {"bfd", bfd_sessions(p)}};
       }},
      {"show routes", {"prefix", "peer", "view"}, &routes},
      {"show vips",
       {},
       [](const json&, const Parts& p) -> json {
         return {{"ok", true}, {"vips", vips(p)}};
       }},
      {"show health",
       {},
       [](const json&, const Parts& p) -> json {
         return {{"ok", true}, {"checks", checks(p)}};
       }},
      {"show proxy",
       {},
       [](const json&, const Parts& p) -> json {
         return {{"ok", true}, {"services", services(p)}};
       }},
      {"drain", {"vip"}, [](const json& r, const Parts& p) { return drain(r, p, true); }},
      {"undrain", {"vip"}, [](const json& r, const Parts& p) { return drain(r, p, false); }},
      {"backend", {"service", "backend", "state", "weight", "close"}, &backend},
      {"reload",
       {},
       [](const json&, const Parts& p) {
         return p.reload ? to_json(p.reload()) : fail("reload is not available here");
       }},
  };
  for (const auto& c : commands) {
    if (c.name != cmd) continue;
    if (auto bad = unknown_field(req, c.name, c.takes)) return fail(*bad);
    return c.run(req, d);
  }
  std::string names;
  for (const auto& c : commands) names += (names.empty() ? "" : ", ") + std::string(c.name);
  return fail("unknown command '" + cmd + "' (" + names + ")");
}

json to_json(const ReloadReport& r) {
  if (!r.applied) return fail(r.error);
  json services = json::object();
  for (const auto& b : r.backends)
    services[b.service] = {{"backends_added", b.added},
                           {"backends_removed", b.removed},
                           {"backends_changed", b.changed}};
  return {{"ok", true},           {"added", r.added},
          {"removed", r.removed}, {"restarted", r.restarted},
          {"vips", r.vips},       {"policies_refreshed", r.policies_refreshed},
          {"health", r.health},   {"services", services}};
}

}  // namespace anycastd::api
