#pragma once
// Runs one check on its schedule and keeps its rise/fall state.
//
// Timing does not drift: the n-th check is due at start + n × interval (± jitter), on the
// loop's monotonic clock, however long each check took. Event-driven detection: while the
// check is passing, a watch connection is held to the target; when it closes or resets,
// or when the proxy reports a failed connection (passive health), checks run at
// fast-interval until one passes or `fall` failures take the check down.
#include <random>

#include "health/check_state.hpp"
#include "health/probe.hpp"

namespace anycastd::health {

class Checker : private Stream::Handler {
 public:
  // `watch_transport`: where the watch connection is opened; nullptr disables watching.
  Checker(Loop& loop, CheckConfig cfg, std::unique_ptr<Probe> probe, Transport* watch_transport,
          uint64_t seed = 1);
  ~Checker() override;

  void start();
  void stop();
  // A failure seen outside the check (the proxy's connect refused or reset).
  void passive_failure(const std::string& reason);

  const CheckConfig& config() const { return cfg_; }
  const CheckState& state() const { return state_; }
  // Before start(): begin from this verdict (see CheckState::assume).
  void assume(const CheckState& previous) { state_.assume(previous.up(), previous.since()); }
  bool fast() const { return fast_; }
  // Called after each result; `flipped` when it changed up/down.
  std::function<void(Checker&, bool flipped)> on_result;

 private:
  void schedule_regular();
  void run();
  void done(CheckResult r);
  void record(const CheckResult& r);
  void enter_fast(const std::string& why);
  void open_watch();
  void on_data(ByteView) override {}
  void on_closed(const std::string& reason) override;

  Loop& loop_;
  CheckConfig cfg_;
  std::unique_ptr<Probe> probe_;
  Transport* watch_transport_;
  std::mt19937_64 rng_;
  CheckState state_;
  TimePoint base_{};
  uint64_t slot_ = 0;  // the grid slot of the last regular check that ran
  TimerId next_ = 0, timeout_ = 0;
  bool running_ = false, started_ = false, fast_ = false, fast_run_ = false;
  std::shared_ptr<void> watch_token_;
  std::unique_ptr<Stream> watch_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace anycastd::health
