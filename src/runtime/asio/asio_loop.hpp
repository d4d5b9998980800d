#pragma once
// The real event loop: standalone Asio's io_context on the kernel's monotonic clock.
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <unordered_map>

#include "runtime/loop.hpp"

namespace anycastd::rt {

class AsioLoop : public Loop {
 public:
  AsioLoop() = default;
  TimePoint now() const override;
  TimerId schedule(Duration d, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  asio::io_context& context() { return io_; }
  void run() { io_.run(); }
  void stop() { io_.stop(); }

 private:
  asio::io_context io_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, std::unique_ptr<asio::steady_timer>> timers_;
};

}  // namespace anycastd::rt
