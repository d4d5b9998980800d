#pragma once
// A timer owned by what it acts on: destroying the owner cancels it, so a callback can
// never run on a freed object. Arming again replaces the pending callback.
#include <functional>
#include <utility>

#include "runtime/loop.hpp"

namespace anycastd {

class ScopedTimer {
 public:
  explicit ScopedTimer(Loop& loop) : loop_(&loop) {}
  ~ScopedTimer() { cancel(); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

  void arm(Duration after, std::function<void()> fn) {
    cancel();
    // Disarmed before fn runs: fn may arm it again, or destroy its owner (and this).
    id_ = loop_->schedule(after, [this, fn = std::move(fn)] {
      id_ = 0;
      fn();
    });
  }
  void cancel() {
    if (id_) loop_->cancel(std::exchange(id_, 0));
  }
  bool armed() const { return id_ != 0; }

 private:
  Loop* loop_;
  TimerId id_ = 0;
};

}  // namespace anycastd
