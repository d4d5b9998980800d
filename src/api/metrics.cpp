#include "api/metrics.hpp"

#include <sstream>

#include "bgp/fsm.hpp"
#include "core/internal_error.hpp"

namespace anycastd::api {

namespace {

// Label values escape backslash, double quote and newline (exposition format).
std::string esc(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string snake(std::string s) {
  for (auto& c : s)
    if (c == ' ') c = '_';
  return s;
}

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    o_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  Writer& sample(const char* name) {
    o_ << name;
    first_ = true;
    return *this;
  }
  Writer& label(const char* k, const std::string& v) {
    o_ << (first_ ? '{' : ',') << k << "=\"" << esc(v) << '"';
    first_ = false;
    return *this;
  }
  template <typename T>
  void value(T v) {
    if (!first_) o_ << '}';
    o_ << ' ' << v << '\n';
  }
  std::string str() const { return o_.str(); }

 private:
  std::ostringstream o_;
  bool first_ = true;
};

void bgp_metrics(Writer& w, const bgp::Speaker& s) {
  const auto& peers = s.config().peers;
  auto each = [&](const char* name, auto get) {
    for (size_t i = 0; i < peers.size(); ++i) {
      auto info = s.peer_info(i);
      w.sample(name)
          .label("peer", peers[i].address.to_string())
          .label("remote_as", std::to_string(peers[i].remote_as))
          .value(get(info));
    }
  };
  if (std::any_of(peers.begin(), peers.end(), [](const auto& p) { return p.bfd.has_value(); })) {
    // Only the peers with BFD, as FRR's exporter lists only its BFD peers.
    auto bfd_each = [&](const char* name, auto get) {
      for (size_t i = 0; i < peers.size(); ++i) {
        auto info = s.peer_info(i);
        if (!info.bfd) continue;
        w.sample(name)
            .label("peer", peers[i].address.to_string())
            .label("remote_as", std::to_string(peers[i].remote_as))
            .value(get(info.bfd->info()));
      }
    };
    w.family("anycastd_bfd_session_up", "gauge", "1 while the BFD session is Up");
    bfd_each("anycastd_bfd_session_up",
             [](const bfd::Session::Info& b) { return b.state == bfd::State::up ? 1 : 0; });
    w.family("anycastd_bfd_transitions_total", "counter", "BFD state changes");
    bfd_each("anycastd_bfd_transitions_total",
             [](const bfd::Session::Info& b) { return b.transitions; });
    w.family("anycastd_bfd_detection_time_seconds", "gauge",
             "how long a silent neighbour takes to be declared down");
    bfd_each("anycastd_bfd_detection_time_seconds", [](const bfd::Session::Info& b) {
      return std::chrono::duration<double>(b.detection_time).count();
    });
  }
  w.family("anycastd_bgp_session_up", "gauge", "1 while the session is Established");
  each("anycastd_bgp_session_up",
       [](const auto& i) { return i.state == bgp::State::established ? 1 : 0; });
  w.family("anycastd_bgp_hold_time_seconds", "gauge",
           "the hold time in force (the smaller of ours and the peer's); 0 until the peer's OPEN");
  each("anycastd_bgp_hold_time_seconds", [](const auto& i) { return i.hold_time.value_or(0); });
  w.family("anycastd_bgp_keepalive_seconds", "gauge",
           "the keepalive interval in force (a third of the hold time); 0 until the peer's OPEN");
  each("anycastd_bgp_keepalive_seconds", [](const auto& i) { return i.hold_time.value_or(0) / 3; });
  w.family("anycastd_bgp_session_established_total", "counter",
           "times the session reached Established");
  each("anycastd_bgp_session_established_total", [](const auto& i) { return i.established_count; });
  w.family("anycastd_bgp_updates_received_total", "counter", "UPDATE messages received");
  each("anycastd_bgp_updates_received_total", [](const auto& i) { return i.updates_in; });
  w.family("anycastd_bgp_updates_sent_total", "counter", "UPDATE messages sent");
  each("anycastd_bgp_updates_sent_total", [](const auto& i) { return i.updates_out; });
  w.family("anycastd_bgp_prefixes_accepted", "gauge",
           "routes from the peer that passed import policy");
  each("anycastd_bgp_prefixes_accepted", [](const auto& i) { return i.accepted; });
  w.family("anycastd_bgp_prefixes_advertised", "gauge", "routes the peer has been sent");
  each("anycastd_bgp_prefixes_advertised", [](const auto& i) { return i.advertised; });
  w.family("anycastd_vip_announced", "gauge", "1 while the VIP is announced");
  for (const auto& v : s.config().vips)
    w.sample("anycastd_vip_announced")
        .label("vip", v.prefix.to_string())
        .value(s.vip_up(v.prefix) ? 1 : 0);
}

void health_metrics(Writer& w, const health::Monitor& m) {
  w.family("anycastd_vip_state", "gauge", "1 for the VIP's current health state");
  for (const auto& [p, v] : m.vips())
    w.sample("anycastd_vip_state")
        .label("vip", p.to_string())
        .label("state", health::to_string(v.status()))
        .value(1);
  w.family("anycastd_check_up", "gauge", "1 while the check is up (after rise)");
  for (const auto& c : m.checkers())
    w.sample("anycastd_check_up").label("check", c->config().name).value(c->state().up() ? 1 : 0);
  w.family("anycastd_check_results_total", "counter", "check results by outcome");
  for (const auto& c : m.checkers())
    for (auto f :
         {health::Failure::none, health::Failure::refused, health::Failure::timeout,
          health::Failure::reset, health::Failure::wrong_status, health::Failure::wrong_answer,
          health::Failure::exit_code, health::Failure::error})
      w.sample("anycastd_check_results_total")
          .label("check", c->config().name)
          .label("result", f == health::Failure::none ? "ok" : snake(health::to_string(f)))
          .value(c->state().results(f));
  w.family("anycastd_check_duration_seconds", "histogram",
           "how long each answered check took (timeouts are not counted here)");
  for (const auto& c : m.checkers()) {
    const auto& h = c->state().latency();
    const auto& bounds = health::LatencyHistogram::kBounds;
    for (size_t i = 0; i <= bounds.size(); ++i) {
      std::ostringstream le;
      if (i < bounds.size())
        le << bounds[i];
      else
        le << "+Inf";
      w.sample("anycastd_check_duration_seconds_bucket")
          .label("check", c->config().name)
          .label("le", le.str())
          .value(h.at_most(i));
    }
    w.sample("anycastd_check_duration_seconds_sum").label("check", c->config().name).value(h.sum());
    w.sample("anycastd_check_duration_seconds_count")
        .label("check", c->config().name)
        .value(h.count());
  }
  w.family("anycastd_check_latency_seconds", "gauge", "the last result's latency");
  for (const auto& c : m.checkers()) {
    const auto& last = c->state().last();
    w.sample("anycastd_check_latency_seconds")
        .label("check", c->config().name)
        .value(last ? std::chrono::duration<double>(last->latency).count() : 0.0);
  }
}

void proxy_metrics(Writer& w, const proxy::Forwarder& e) {
  const auto& svcs = e.config().services;
  std::vector<proxy::ServiceStats> stats;
  for (size_t i = 0; i < svcs.size(); ++i) stats.push_back(e.stats(i));
  w.family("anycastd_proxy_refused_total", "counter",
           "new connections or flows refused: none healthy, draining or at max-connections");
  for (size_t i = 0; i < svcs.size(); ++i)
    w.sample("anycastd_proxy_refused_total").label("service", svcs[i].name).value(stats[i].refused);
  w.family("anycastd_proxy_dropped_total", "counter",
           "UDP answers dropped because the listener's send buffer was full");
  for (size_t i = 0; i < svcs.size(); ++i)
    w.sample("anycastd_proxy_dropped_total").label("service", svcs[i].name).value(stats[i].dropped);
  w.family("anycastd_proxy_kernel_connections_total", "counter",
           "TCP connections whose bytes the kernel forwarded (sockmap)");
  for (size_t i = 0; i < svcs.size(); ++i)
    w.sample("anycastd_proxy_kernel_connections_total")
        .label("service", svcs[i].name)
        .value(stats[i].kernel_connections);
  // forwarding: nat's connection tracking, for the services it forwards.
  auto nat = [&](const char* name, const char* type, const char* help, auto get) {
    w.family(name, type, help);
    for (size_t i = 0; i < svcs.size(); ++i)
      if (stats[i].forwarding == "nat")
        w.sample(name).label("service", svcs[i].name).value(get(stats[i].nat));
  };
  using Nat = proxy::ServiceStats::NatTable;
  w.family("anycastd_nat_entries", "gauge",
           "flows in address translation's tables by state: opening (in the cache a flood may "
           "churn), established, closing (a FIN or RST passed)");
  for (size_t i = 0; i < svcs.size(); ++i)
    if (stats[i].forwarding == "nat") {
      w.sample("anycastd_nat_entries")
          .label("service", svcs[i].name)
          .label("state", "established")
          .value(stats[i].nat.established);
      w.sample("anycastd_nat_entries")
          .label("service", svcs[i].name)
          .label("state", "opening")
          .value(stats[i].nat.opening);
      w.sample("anycastd_nat_entries")
          .label("service", svcs[i].name)
          .label("state", "closing")
          .value(stats[i].nat.closing);
    }
  nat("anycastd_nat_expired_total", "counter", "entries forgotten after their state's timeout",
      [](const Nat& n) { return n.expired; });
  nat("anycastd_nat_takeovers_total", "counter",
      "TCP segments without an entry sent on by the Maglev table (a connection taken over)",
      [](const Nat& n) { return n.takeovers; });
  nat("anycastd_nat_evicted_total", "counter",
      "opening flows the cache forgot to make room for new ones (a flood), as of the last sweep",
      [](const Nat& n) { return n.evicted; });
  nat("anycastd_nat_table_full_total", "counter",
      "flows that could not become established: the connection table was full",
      [](const Nat& n) { return n.full; });
  w.family("anycastd_proxy_forwarding_info", "gauge",
           "always 1; `path` says who forwards the service's established connections");
  for (size_t i = 0; i < svcs.size(); ++i)
    w.sample("anycastd_proxy_forwarding_info")
        .label("service", svcs[i].name)
        .label("path", stats[i].forwarding)
        .value(1);
  auto each = [&](const char* name, const char* type, const char* help, auto get) {
    w.family(name, type, help);
    for (size_t i = 0; i < svcs.size(); ++i)
      for (size_t b = 0; b < svcs[i].backends.size(); ++b)
        w.sample(name)
            .label("service", svcs[i].name)
            .label("backend", svcs[i].backends[b].endpoint.to_string())
            .value(get(stats[i].backends[b]));
  };
  each("anycastd_proxy_backend_healthy", "gauge",
       "1 while its checks pass; it gets new connections only while its admin state is ready too",
       [](const auto& b) { return b.healthy ? 1 : 0; });
  each("anycastd_backend_weight", "gauge",
       "the weight in force: the configured one, or the one set at run time",
       [](const auto& b) { return b.weight; });
  w.family("anycastd_backend_admin_state", "gauge",
           "1 for the backend's admin state (ready, drain or maint), 0 for the others");
  for (size_t i = 0; i < svcs.size(); ++i)
    for (size_t b = 0; b < svcs[i].backends.size(); ++b)
      for (auto s : {proxy::AdminState::ready, proxy::AdminState::drain, proxy::AdminState::maint})
        w.sample("anycastd_backend_admin_state")
            .label("service", svcs[i].name)
            .label("backend", svcs[i].backends[b].endpoint.to_string())
            .label("state", proxy::to_string(s))
            .value(stats[i].backends[b].admin == s ? 1 : 0);
  each("anycastd_proxy_connections_total", "counter", "connections (tcp) or flows (udp) opened",
       [](const auto& b) { return b.connections; });
  each("anycastd_proxy_active_connections", "gauge", "connections or flows open now",
       [](const auto& b) { return b.active; });
  each("anycastd_proxy_failures_total", "counter",
       "connects refused, reset or timed out, and UDP port-unreachables",
       [](const auto& b) { return b.failures; });
  each("anycastd_proxy_received_bytes_total", "counter", "bytes from clients to the backend",
       [](const auto& b) { return b.bytes_in; });
  each("anycastd_proxy_sent_bytes_total", "counter", "bytes from the backend to clients",
       [](const auto& b) { return b.bytes_out; });
}

}  // namespace

std::string metrics_text(const Parts& d, double started_unix) {
  Writer w;
  w.family("anycastd_build_info", "gauge", "always 1; the labels say which build");
  w.sample("anycastd_build_info").label("version", ANYCASTD_VERSION).value(1);
  w.family("anycastd_process_start_time_seconds", "gauge", "start of the process, Unix time");
  {
    std::ostringstream v;
    v.precision(15);
    v << started_unix;
    w.sample("anycastd_process_start_time_seconds").value(v.str());
  }
  w.family("anycastd_internal_errors_total", "counter",
           "inputs dropped (a request answered with an error, a connection closed, a datagram "
           "or event ignored) because handling them raised an internal error; each is logged");
  w.sample("anycastd_internal_errors_total").value(internal_errors());
  if (d.speaker) bgp_metrics(w, *d.speaker);
  if (d.monitor) health_metrics(w, *d.monitor);
  if (d.forwarder) proxy_metrics(w, *d.forwarder);
  return w.str();
}

}  // namespace anycastd::api
