#pragma once
// One BFD session in asynchronous mode (RFC 5880 §6): the state machine of §6.8.6, the
// transmit and detection timers of §6.8.2-§6.8.4 and the Poll Sequence that changes
// intervals while Up (§6.5). Sans-I/O: packets arrive decoded through receive(), leave
// through the send callback, and time comes from the Loop, so the simulated clock drives
// it exactly as the real one does.
#include <functional>

#include "bfd/packet.hpp"
#include "runtime/scoped_timer.hpp"

namespace anycastd::bfd {

using namespace std::chrono_literals;

struct Params {
  Duration min_tx = 300ms;  // bfd.DesiredMinTxInterval once Up
  Duration min_rx = 300ms;  // bfd.RequiredMinRxInterval
  uint8_t multiplier = 3;   // bfd.DetectMult
  bool operator==(const Params&) const = default;
};

// §6.8.3: the interval advertised and used while the session is not Up.
inline constexpr Duration kSlowTx = 1s;

struct Transition {
  State from, to;
  Diag diag;
  // The neighbour said AdminDown: BGP must not treat this as a failure (RFC 5882 §3.2).
  bool remote_admin_down = false;
};

class Session {
 public:
  using Send = std::function<void(Bytes)>;
  using OnChange = std::function<void(const Transition&)>;
  Session(Loop& loop, uint32_t local_disc, Params params, Send send, OnChange on_change,
          uint64_t seed = 1);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // A packet decode() accepted, for this session (the caller demultiplexed it).
  void receive(const ControlPacket& p);
  // New intervals; while Up they take effect through a Poll Sequence.
  void set_params(const Params& p);
  void set_admin_down(bool down);

  struct Info {
    State state = State::down, remote_state = State::down;
    uint32_t local_disc = 0, remote_disc = 0;
    Diag local_diag = Diag::none, remote_diag = Diag::none;
    Duration tx_interval{};     // what we send at, before jitter
    Duration detection_time{};  // how long we wait for the neighbour
    Duration remote_min_rx{}, remote_min_tx{};
    uint8_t remote_multiplier = 0;
    bool polling = false;
    uint64_t transitions = 0, packets_in = 0, packets_out = 0;
  };
  const Info& info() const { return info_; }
  const Params& params() const { return params_; }

 private:
  void change(State to, Diag diag, bool remote_admin_down = false);
  void advertise();  // the intervals to put on the wire for the current state
  void start_poll();
  void apply_intervals();
  void transmit(bool final = false);
  void schedule_tx();
  void arm_detection();
  Duration jittered(Duration d);

  Loop& loop_;
  Params params_;
  Send send_;
  OnChange on_change_;
  Info info_;
  // Advertised (on the wire) and applied (used by our timers) intervals differ while a Poll
  // Sequence is outstanding: §6.8.3 holds back a larger tx and a smaller rx until Final.
  Duration adv_tx_{kSlowTx}, adv_rx_{}, applied_tx_{kSlowTx}, applied_rx_{};
  uint64_t rng_;
  ScopedTimer tx_timer_{loop_};
  ScopedTimer detect_timer_{loop_};
};

}  // namespace anycastd::bfd
