#include "bfd/session.hpp"

#include <algorithm>

namespace anycastd::bfd {
namespace {

uint32_t micros(Duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return static_cast<uint32_t>(std::clamp<int64_t>(us, 0, UINT32_MAX));
}
Duration from_micros(uint32_t us) {
  return std::chrono::microseconds(us);
}

}  // namespace

Session::Session(Loop& loop, uint32_t local_disc, Params params, Send send, OnChange on_change,
                 uint64_t seed)
    : loop_(loop),
      params_(params),
      send_(std::move(send)),
      on_change_(std::move(on_change)),
      rng_(seed * 0x9E3779B97F4A7C15ull + local_disc + 1) {
  info_.local_disc = local_disc;
  // §6.8.1: bfd.RemoteMinRxInterval starts at 1 us, so the first packets go at our own pace.
  info_.remote_min_rx = std::chrono::microseconds(1);
  advertise();
  apply_intervals();
  schedule_tx();
}

Duration Session::jittered(Duration d) {
  // §6.8.7: 0-25% shorter, and at least 10% shorter with a multiplier of 1.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  int max_pct = 25, min_pct = params_.multiplier == 1 ? 10 : 0;
  int pct = min_pct + static_cast<int>(rng_ % uint64_t(max_pct - min_pct + 1));
  return d - d * pct / 100;
}

void Session::advertise() {
  adv_tx_ = info_.state == State::up ? params_.min_tx : std::max(params_.min_tx, kSlowTx);
  adv_rx_ = params_.min_rx;
}

void Session::apply_intervals() {
  applied_tx_ = adv_tx_;
  applied_rx_ = adv_rx_;
  info_.tx_interval = std::max(applied_tx_, info_.remote_min_rx);
  if (info_.remote_multiplier)
    info_.detection_time = info_.remote_multiplier * std::max(applied_rx_, info_.remote_min_tx);
}

void Session::start_poll() {
  // A smaller tx or a larger rx asks nothing of the neighbour: it applies now. The rest
  // waits for the Final that says the neighbour has seen the new values.
  applied_tx_ = std::min(applied_tx_, adv_tx_);
  applied_rx_ = std::max(applied_rx_, adv_rx_);
  info_.tx_interval = std::max(applied_tx_, info_.remote_min_rx);
  if (info_.remote_multiplier)
    info_.detection_time = info_.remote_multiplier * std::max(applied_rx_, info_.remote_min_tx);
  info_.polling = true;
  transmit();
  schedule_tx();
}

void Session::set_params(const Params& p) {
  if (p == params_) return;
  params_ = p;
  advertise();
  if (info_.state == State::up) {
    start_poll();
  } else {
    apply_intervals();
    schedule_tx();
  }
}

void Session::set_admin_down(bool down) {
  if (down == (info_.state == State::admin_down)) return;
  if (down) {
    detect_timer_.cancel();
    change(State::admin_down, Diag::admin_down);
  } else {
    change(State::down, Diag::none);
  }
}

void Session::change(State to, Diag diag, bool remote_admin_down) {
  Transition t{info_.state, to, diag, remote_admin_down};
  info_.state = to;
  info_.local_diag = diag;
  info_.transitions++;
  advertise();
  if (to == State::up) {
    // Leaving the slow rate of §6.8.3 lowers our tx: a Poll Sequence tells the neighbour.
    start_poll();
  } else {
    info_.polling = false;
    apply_intervals();
    transmit();
    schedule_tx();
  }
  if (on_change_) on_change_(t);
}

void Session::receive(const ControlPacket& p) {
  info_.packets_in++;
  info_.remote_disc = p.my_disc;
  info_.remote_state = p.state;
  info_.remote_diag = p.diag;
  info_.remote_min_rx = from_micros(p.required_min_rx);
  info_.remote_min_tx = from_micros(p.desired_min_tx);
  info_.remote_multiplier = p.detect_mult;
  if (p.final && info_.polling) {
    info_.polling = false;
    apply_intervals();
  } else {
    info_.tx_interval = std::max(applied_tx_, info_.remote_min_rx);
    info_.detection_time = info_.remote_multiplier * std::max(applied_rx_, info_.remote_min_tx);
  }
  if (info_.state == State::admin_down) return;
  // A packet arrived: the neighbour is alive for another detection time, whatever it says.
  arm_detection();
  if (p.state == State::admin_down) {
    if (info_.state != State::down) change(State::down, Diag::neighbor_down, true);
  } else if (info_.state == State::down) {
    if (p.state == State::down)
      change(State::init, Diag::none);
    else if (p.state == State::init)
      change(State::up, Diag::none);
  } else if (info_.state == State::init) {
    if (p.state == State::init || p.state == State::up) change(State::up, Diag::none);
  } else if (info_.state == State::up && p.state == State::down) {
    change(State::down, Diag::neighbor_down);
  }
  if (p.poll) transmit(true);
  // The neighbour may have lowered the rate it will accept: the next packet must honour it.
  if (!tx_timer_.armed()) schedule_tx();
}

void Session::arm_detection() {
  detect_timer_.arm(info_.detection_time, [this] {
    info_.remote_disc = 0;
    info_.remote_state = State::down;
    if (info_.state == State::init || info_.state == State::up)
      change(State::down, Diag::detection_expired);
  });
}

void Session::transmit(bool final) {
  // §6.8.7: nothing periodic to a neighbour that asked for none; a Final is still owed.
  if (!final && info_.remote_min_rx == Duration::zero()) return;
  ControlPacket p;
  p.diag = info_.local_diag;
  p.state = info_.state;
  p.poll = info_.polling && !final;
  p.final = final;
  p.detect_mult = params_.multiplier;
  p.my_disc = info_.local_disc;
  p.your_disc = info_.remote_disc;
  p.desired_min_tx = micros(adv_tx_);
  p.required_min_rx = micros(adv_rx_);
  info_.packets_out++;
  send_(encode(p));
}

void Session::schedule_tx() {
  if (info_.remote_min_rx == Duration::zero()) {
    tx_timer_.cancel();
    return;
  }
  tx_timer_.arm(jittered(info_.tx_interval), [this] {
    transmit();
    schedule_tx();
  });
}

}  // namespace anycastd::bfd
