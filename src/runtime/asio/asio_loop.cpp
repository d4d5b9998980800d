#include "runtime/asio/asio_loop.hpp"

namespace anycastd::rt {

TimePoint AsioLoop::now() const {
  return TimePoint(
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

TimerId AsioLoop::schedule(Duration d, std::function<void()> fn) {
  TimerId id = next_id_++;
  auto t = std::make_unique<asio::steady_timer>(io_);
  t->expires_after(d);
  t->async_wait([this, id, fn = std::move(fn)](const std::error_code& ec) {
    if (ec) return;
    timers_.erase(id);
    fn();
  });
  timers_.emplace(id, std::move(t));
  return id;
}

void AsioLoop::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->cancel();
  timers_.erase(it);
}

}  // namespace anycastd::rt
