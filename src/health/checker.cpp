#include "health/checker.hpp"

namespace anycastd::health {

Checker::Checker(Loop& loop, CheckConfig cfg, std::unique_ptr<Probe> probe,
                 Transport* watch_transport, uint64_t seed)
    : loop_(loop),
      cfg_(std::move(cfg)),
      probe_(std::move(probe)),
      watch_transport_(cfg_.watch ? watch_transport : nullptr),
      rng_(seed),
      state_(cfg_.rise, cfg_.fall) {
  if (cfg_.watch) probe_->on_lost = [this](const std::string& why) { enter_fast(why); };
}

Checker::~Checker() {
  *alive_ = false;
  stop();
}

void Checker::start() {
  started_ = true;
  base_ = loop_.now();
  slot_ = 0;
  run();  // the first check runs at once
}

void Checker::stop() {
  started_ = false;
  loop_.cancel(next_);
  loop_.cancel(timeout_);
  probe_->cancel();  // also lets go of a kept connection
  running_ = false;
  watch_token_.reset();
  if (watch_) watch_->close();
  watch_.reset();
}

void Checker::schedule_regular() {
  loop_.cancel(next_);
  TimePoint now = loop_.now();
  // The first slot of the grid after the last one that ran and still ahead: a slow or
  // skipped check never shifts the ones after it, and rescheduling before the slot came
  // (a passive failure does) keeps it rather than skipping to the one after.
  uint64_t slot = slot_ + 1;
  while (base_ + cfg_.interval * static_cast<int64_t>(slot) <= now) ++slot;
  TimePoint due = base_ + cfg_.interval * static_cast<int64_t>(slot);
  if (cfg_.jitter.count() > 0) {
    std::uniform_int_distribution<int64_t> d(-cfg_.jitter.count(), cfg_.jitter.count());
    due += Duration(d(rng_));
    if (due < now) due = now;
  }
  next_ = loop_.schedule(due - now, [this, slot] {
    slot_ = slot;
    run();
  });
}

void Checker::run() {
  if (!started_ || running_) return;
  running_ = true;
  fast_run_ = fast_;
  timeout_ = loop_.schedule(cfg_.timeout, [this] {
    if (!running_) return;
    probe_->cancel();
    running_ = false;
    record(CheckResult::fail(Failure::timeout, "no answer within the timeout", cfg_.timeout));
  });
  auto alive = alive_;
  probe_->start([this, alive](CheckResult r) {
    if (!*alive || !running_) return;
    done(std::move(r));
  });
}

void Checker::done(CheckResult r) {
  loop_.cancel(timeout_);
  running_ = false;
  record(r);
}

void Checker::record(const CheckResult& r) {
  bool flipped = state_.record(r, loop_.now());
  if (r.ok) {
    fast_ = false;
    // Re-opened only from a regular check, so a target that drops idle connections costs
    // at most one extra check per interval.
    if (!fast_run_ && !watch_ && !watch_token_ && !probe_->holds_connection()) open_watch();
  } else if (state_.up() && !fast_) {
    // A failure while up: confirm (or clear) it quickly rather than a whole interval later.
    fast_ = true;
  }
  if (!state_.up()) fast_ = false;
  if (on_result) on_result(*this, flipped);
  if (!started_) return;
  if (fast_) {
    loop_.cancel(next_);
    next_ = loop_.schedule(cfg_.fast_interval, [this] { run(); });
  } else {
    schedule_regular();
  }
}

void Checker::enter_fast(const std::string& why) {
  (void)why;
  if (!started_ || !state_.up()) return;
  fast_ = true;
  if (running_) return;  // its result reschedules
  loop_.cancel(next_);
  next_ = loop_.schedule(Duration::zero(), [this] { run(); });
}

void Checker::passive_failure(const std::string& reason) {
  if (!started_) return;
  // Counts as a failed check, and the next ones come at the fast interval.
  if (!running_) {
    record(CheckResult::fail(classify_socket_error(reason), "passive: " + reason));
  } else {
    enter_fast(reason);
  }
}

void Checker::open_watch() {
  bool stream_check = cfg_.type == CheckType::tcp || cfg_.type == CheckType::http;
  if (!watch_transport_ || !stream_check || !started_) return;
  auto alive = alive_;
  watch_token_ = watch_transport_->connect(cfg_.source, cfg_.target, [this, alive](auto r) {
    if (!*alive) return;
    watch_token_.reset();
    if (!r) return enter_fast(r.error());
    watch_ = std::move(*r);
    watch_->start(this);
  });
}

void Checker::on_closed(const std::string& reason) {
  destroy_later(loop_, std::move(watch_));  // we are inside its callback
  enter_fast(reason);
}

}  // namespace anycastd::health
