#pragma once
// RFC 4271 §8 session state machine as a pure function: (state, event) -> (state, actions).
// It never touches a socket or a clock; the Session performs the actions it returns.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/time.hpp"
#include "wire/codec.hpp"

namespace anycastd::bgp {

enum class State { idle, connect, active, open_sent, open_confirm, established };
const char* to_string(State s);

enum class Timer { connect_retry, hold, keepalive, idle_hold };

struct FsmConfig {
  uint32_t local_as = 0;
  uint32_t bgp_id = 0;
  uint32_t peer_as = 0;
  uint16_t hold_time = 90;  // what we offer; 0 disables keepalives if the peer agrees
  bool passive = false;
  Capabilities caps;  // what we advertise in OPEN
  // Azure Route Server demands route refresh of its NVAs: an OPEN without it is refused
  // with Unsupported Capability (RFC 5492 §5).
  bool require_route_refresh = false;
  Duration connect_retry = std::chrono::seconds(5);
  Duration idle_hold_min = std::chrono::seconds(1);  // first restart delay after an error
  Duration idle_hold_max = std::chrono::seconds(120);
  Duration open_hold = std::chrono::seconds(240);  // RFC 4271 §8: "large value" in OpenSent
  // A session must stay up this long before its failures are forgiven; otherwise a peer
  // that accepts the OPEN and rejects the first UPDATE would flap at full speed.
  Duration stable_after = std::chrono::seconds(60);
};

struct FsmState {
  State state = State::idle;
  bool started = false;                  // ManualStart seen and no ManualStop since
  uint32_t failures = 0;                 // consecutive failures, drives the backoff
  uint64_t rng = 0x9E3779B97F4A7C15ull;  // jitter source, deterministic per seed
  uint16_t hold_time = 0;                // negotiated
  std::optional<Open> peer_open;
  std::optional<TimePoint> established_at;
};

namespace ev {
struct ManualStart {};
struct ManualStop {
  uint8_t subcode = err::kCeaseAdminShutdown;
  std::string reason;  // empty: "administratively stopped"
};
struct TimerExpired {
  Timer timer;
};
struct TcpConnected {};  // outbound connect succeeded or inbound connection accepted
struct TcpFailed {
  std::string reason;
};
struct Received {
  Message message;
};
struct DecodeFailed {
  WireError error;
};
}  // namespace ev
using Event = std::variant<ev::ManualStart, ev::ManualStop, ev::TimerExpired, ev::TcpConnected,
                           ev::TcpFailed, ev::Received, ev::DecodeFailed>;

namespace act {
struct Connect {};
struct Send {
  Message message;
};
struct ArmTimer {
  Timer timer;
  Duration after;
};
struct CancelTimer {
  Timer timer;
};
struct CloseConnection {};
struct SessionUp {};
struct SessionDown {
  std::string reason;
};
struct Deliver {  // an UPDATE or ROUTE-REFRESH for the routing layer
  Message message;
};
}  // namespace act
using Action = std::variant<act::Connect, act::Send, act::ArmTimer, act::CancelTimer,
                            act::CloseConnection, act::SessionUp, act::SessionDown, act::Deliver>;

struct Transition {
  FsmState next;
  std::vector<Action> actions;
};

// State and event are taken by value so that the session can move them in: a received
// UPDATE goes on to Deliver uncopied, and the peer's OPEN in the state is not copied per
// message.
Transition step(FsmState s, const FsmConfig& cfg, Event e, TimePoint now);

// Builds the OPEN we send.
Open make_open(const FsmConfig& cfg);

// What both sides agreed on, once the peer's OPEN is known.
CodecOptions negotiated_options(const FsmConfig& cfg, const Open& peer);

// RFC 4271 §6.8: which of two colliding connections survives.
enum class Keep { locally_initiated, remotely_initiated };
Keep resolve_collision(uint32_t local_id, uint32_t remote_id);

}  // namespace anycastd::bgp
