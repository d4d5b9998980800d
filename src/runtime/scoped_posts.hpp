#pragma once
// Work posted to the loop on behalf of an object, owned by it as ScopedTimer owns a timer:
// destroying the owner cancels whatever it posted and has not run, so a posted callback can
// never run on a freed object. Loop::post alone has no owner; use this wherever the callback
// touches anything but what it captured by value.
#include <functional>
#include <unordered_map>
#include <utility>

#include "runtime/loop.hpp"

namespace anycastd {

class ScopedPosts {
 public:
  explicit ScopedPosts(Loop& loop) : loop_(&loop) {}
  ~ScopedPosts() { cancel_all(); }
  ScopedPosts(const ScopedPosts&) = delete;
  ScopedPosts& operator=(const ScopedPosts&) = delete;

  // Runs fn on the loop's next turn (after `after`, if given) unless the owner dies first.
  void post(std::function<void()> fn, Duration after = Duration::zero()) {
    const uint64_t key = next_++;
    // Forgotten before fn runs: fn may destroy the owner, and this with it.
    pending_[key] = loop_->schedule(after, [this, key, fn = std::move(fn)] {
      pending_.erase(key);
      fn();
    });
  }
  void cancel_all() {
    auto pending = std::exchange(pending_, {});
    for (const auto& [key, id] : pending) loop_->cancel(id);
  }
  size_t pending() const { return pending_.size(); }

 private:
  Loop* loop_;
  uint64_t next_ = 1;
  std::unordered_map<uint64_t, TimerId> pending_;
};

}  // namespace anycastd
