#include "bgp/fsm.hpp"

#include <algorithm>

namespace anycastd::bgp {

const char* to_string(State s) {
  switch (s) {
    case State::idle:
      return "Idle";
    case State::connect:
      return "Connect";
    case State::active:
      return "Active";
    case State::open_sent:
      return "OpenSent";
    case State::open_confirm:
      return "OpenConfirm";
    case State::established:
      return "Established";
  }
  return "?";
}

Open make_open(const FsmConfig& cfg) {
  Open o;
  o.my_as = cfg.local_as > 0xFFFF ? kAsTrans : static_cast<uint16_t>(cfg.local_as);
  o.hold_time = cfg.hold_time;
  o.bgp_id = cfg.bgp_id;
  o.caps = cfg.caps;
  o.caps.four_octet_as = cfg.local_as;
  return o;
}

CodecOptions negotiated_options(const FsmConfig& cfg, const Open& peer) {
  CodecOptions o;
  o.four_octet_as = peer.caps.four_octet_as.has_value();
  o.extended_message = cfg.caps.extended_message && peer.caps.extended_message;
  o.external_peer = cfg.peer_as != cfg.local_as;
  return o;
}

Keep resolve_collision(uint32_t local_id, uint32_t remote_id) {
  return local_id < remote_id ? Keep::remotely_initiated : Keep::locally_initiated;
}

namespace {

// xorshift64*: deterministic jitter so simulated runs repeat exactly.
double next_jitter(uint64_t& rng) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  uint64_t r = rng * 2685821657736338717ull;
  // RFC 4271 §10: jitter multiplies timers by a random factor in [0.75, 1.0].
  return 0.75 + 0.25 * static_cast<double>(r >> 11) / static_cast<double>(1ull << 53);
}

Duration jittered(Duration d, uint64_t& rng) {
  return std::chrono::duration_cast<Duration>(d * next_jitter(rng));
}

Duration backoff(const FsmConfig& cfg, uint32_t failures) {
  Duration d = cfg.idle_hold_min;
  for (uint32_t i = 1; i < failures && d < cfg.idle_hold_max; ++i) d *= 2;
  return std::min(d, cfg.idle_hold_max);
}

struct Builder {
  FsmState s;
  const FsmConfig& cfg;
  TimePoint now;
  std::vector<Action> out;

  void send(Message m) { out.push_back(act::Send{std::move(m)}); }
  void arm(Timer t, Duration d) { out.push_back(act::ArmTimer{t, d}); }
  void cancel(Timer t) { out.push_back(act::CancelTimer{t}); }

  void cancel_all() {
    for (auto t : {Timer::connect_retry, Timer::hold, Timer::keepalive, Timer::idle_hold})
      cancel(t);
  }

  // Begins a connection attempt (active) or waits for one (passive).
  void begin() {
    s.peer_open.reset();
    if (cfg.passive) {
      s.state = State::active;
    } else {
      s.state = State::connect;
      out.push_back(act::Connect{});
      arm(Timer::connect_retry, jittered(cfg.connect_retry, s.rng));
    }
  }

  // Any error: tear down, go Idle, and restart after an exponentially growing delay.
  void fail(const std::string& reason, std::optional<Notification> notify = std::nullopt) {
    if (notify) send(*notify);
    bool was_up = s.state == State::established;
    if (was_up && s.established_at && now - *s.established_at >= cfg.stable_after) s.failures = 0;
    cancel_all();
    out.push_back(act::CloseConnection{});
    if (was_up || s.state >= State::open_sent) out.push_back(act::SessionDown{reason});
    s.state = State::idle;
    s.peer_open.reset();
    s.established_at.reset();
    s.hold_time = 0;
    ++s.failures;
    if (s.started) arm(Timer::idle_hold, jittered(backoff(cfg, s.failures), s.rng));
  }

  void fail(const WireError& e) { fail(e.reason, e.notification()); }

  void restart_hold() {
    if (s.hold_time) arm(Timer::hold, std::chrono::seconds(s.hold_time));
  }

  // RFC 4271 §6.2 checks that need the configuration, then hold time negotiation.
  void on_open(const Open& o) {
    auto bad = [&](uint8_t sub, std::string why, Bytes data = {}) {
      fail("OPEN rejected: " + why, Notification{err::kOpen, sub, std::move(data)});
    };
    // RFC 7607 §2: AS 0 is never a peer's AS, whatever the configuration says.
    if (o.asn() == 0 || o.asn() != cfg.peer_as) {
      Bytes d;
      ByteWriter(d).u16(o.my_as);
      return bad(err::kBadPeerAs,
                 o.asn() == 0 ? std::string("peer AS 0 (RFC 7607)")
                              : "peer AS " + std::to_string(o.asn()) + ", expected " +
                                    std::to_string(cfg.peer_as),
                 d);
    }
    if (o.bgp_id == 0 || (o.bgp_id == cfg.bgp_id && o.asn() == cfg.local_as))
      return bad(err::kBadBgpId, "bad BGP identifier");
    if (o.hold_time == 1 || o.hold_time == 2)
      return bad(err::kUnacceptableHoldTime, "hold time " + std::to_string(o.hold_time));
    if (cfg.require_route_refresh && !o.caps.route_refresh)
      return bad(err::kUnsupportedCapability, "route refresh is required (capability 2)",
                 Bytes{std::byte{2}, std::byte{0}});
    s.peer_open = o;
    s.hold_time = std::min(cfg.hold_time, o.hold_time);
    cancel(Timer::hold);
    send(Keepalive{});
    if (s.hold_time) {
      arm(Timer::keepalive, std::chrono::seconds(s.hold_time) / 3);
      restart_hold();
    }
    s.state = State::open_confirm;
  }

  void unexpected(const Message& m, uint8_t fsm_subcode) {
    if (auto* n = std::get_if<Notification>(&m)) {
      return fail("peer sent NOTIFICATION " + n->to_string());
    }
    // RFC 6608 subcodes: 1 OpenSent, 2 OpenConfirm, 3 Established.
    fail(std::string("unexpected message in ") + to_string(s.state),
         Notification{err::kFsm, fsm_subcode, {}});
  }
};

}  // namespace

Transition step(FsmState state, const FsmConfig& cfg, Event e, TimePoint now) {
  Builder b{std::move(state), cfg, now, {}};
  auto& s = b.s;

  if (std::holds_alternative<ev::ManualStart>(e)) {
    if (s.started) return {std::move(s), {}};
    s.started = true;
    s.failures = 0;
    if (s.state == State::idle) b.begin();
    return {std::move(s), std::move(b.out)};
  }
  if (auto* stop = std::get_if<ev::ManualStop>(&e)) {
    s.started = false;
    if (s.state >= State::open_sent) b.send(Notification{err::kCease, stop->subcode, {}});
    bool up = s.state == State::established;
    b.cancel_all();
    b.out.push_back(act::CloseConnection{});
    if (up || s.state >= State::open_sent)
      b.out.push_back(
          act::SessionDown{stop->reason.empty() ? "administratively stopped" : stop->reason});
    s.state = State::idle;
    s.peer_open.reset();
    s.established_at.reset();
    return {std::move(s), std::move(b.out)};
  }
  if (auto* dec = std::get_if<ev::DecodeFailed>(&e)) {
    if (s.state != State::idle) b.fail(dec->error);
    return {std::move(s), std::move(b.out)};
  }

  switch (s.state) {
    case State::idle:
      if (auto* t = std::get_if<ev::TimerExpired>(&e);
          t && t->timer == Timer::idle_hold && s.started)
        b.begin();
      // An inbound connection while Idle is refused: the Session closes it.
      break;

    case State::connect:
    case State::active:
      if (auto* t = std::get_if<ev::TimerExpired>(&e)) {
        if (t->timer == Timer::connect_retry && !cfg.passive) {
          b.out.push_back(act::CloseConnection{});
          s.state = State::connect;
          b.out.push_back(act::Connect{});
          b.arm(Timer::connect_retry, jittered(cfg.connect_retry, s.rng));
        }
      } else if (std::holds_alternative<ev::TcpConnected>(e)) {
        b.cancel(Timer::connect_retry);
        b.send(make_open(cfg));
        b.arm(Timer::hold, cfg.open_hold);
        s.state = State::open_sent;
      } else if (std::holds_alternative<ev::TcpFailed>(e)) {
        // Wait for the retry timer (or an inbound connection) in Active.
        b.out.push_back(act::CloseConnection{});
        if (s.state == State::connect) s.state = State::active;
      }
      break;

    case State::open_sent:
      if (auto* t = std::get_if<ev::TimerExpired>(&e); t && t->timer == Timer::hold) {
        b.fail("hold timer expired in OpenSent", Notification{err::kHoldTimerExpired, 0, {}});
      } else if (auto* f = std::get_if<ev::TcpFailed>(&e)) {
        b.fail("connection lost in OpenSent: " + f->reason);
      } else if (auto* r = std::get_if<ev::Received>(&e)) {
        if (auto* o = std::get_if<Open>(&r->message)) {
          b.on_open(*o);
        } else {
          b.unexpected(r->message, 1);
        }
      }
      break;

    case State::open_confirm:
    case State::established: {
      bool up = s.state == State::established;
      if (auto* t = std::get_if<ev::TimerExpired>(&e)) {
        if (t->timer == Timer::hold) {
          b.fail("hold timer expired", Notification{err::kHoldTimerExpired, 0, {}});
        } else if (t->timer == Timer::keepalive && s.hold_time) {
          b.send(Keepalive{});
          b.arm(Timer::keepalive, std::chrono::seconds(s.hold_time) / 3);
        }
      } else if (auto* f = std::get_if<ev::TcpFailed>(&e)) {
        b.fail("connection closed: " + f->reason);
      } else if (auto* r = std::get_if<ev::Received>(&e)) {
        Message& m = r->message;
        if (std::holds_alternative<Keepalive>(m)) {
          b.restart_hold();
          if (!up) {
            s.state = State::established;
            s.established_at = now;
            b.out.push_back(act::SessionUp{});
          }
        } else if (up &&
                   (std::holds_alternative<Update>(m) || std::holds_alternative<RouteRefresh>(m))) {
          b.restart_hold();
          b.out.push_back(act::Deliver{std::move(m)});
        } else {
          b.unexpected(m, up ? 3 : 2);
        }
      }
      break;
    }
  }
  return {std::move(s), std::move(b.out)};
}

}  // namespace anycastd::bgp
