#pragma once
// The real event loop: standalone Asio's io_context on the kernel's monotonic clock.
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <optional>
#include <vector>

#include "runtime/loop.hpp"

namespace anycastd::rt {

class AsioLoop : public Loop {
 public:
  // Timers fire up to this late, so that those close together share one wake-up (and one
  // re-arming of the kernel's timer): 10,000 health checks a second would otherwise wake
  // the loop for nearly every one. HAProxy's timers tick in milliseconds too.
  static constexpr Duration kTimerSlack = std::chrono::microseconds(1000);

  AsioLoop() = default;
  ~AsioLoop() override;
  TimePoint now() const override;
  TimerId schedule(Duration d, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  asio::io_context& context() { return io_; }
  // Until stop() or out of work; an exception from a handler is reported, not thrown.
  void run();
  void stop() { io_.stop(); }
  size_t heap_entries() const { return heap_.size(); }  // cancelled ones included

 private:
  // Our own heap under one asio timer rather than an asio timer each: checks and sessions
  // re-arm timers all the time, and each asio timer costs an allocation, a map entry and a
  // cancellation handler. A cancelled timer's heap entry stays until popped or compacted.
  struct Slot {
    std::function<void()> fn;
    uint32_t gen = 1;
  };
  struct Due {
    TimePoint at;
    uint64_t seq;  // timers due at the same instant run in the order they were set
    uint32_t slot, gen;
  };
  struct Later {  // a type, not a function pointer, so the heap's comparisons inline
    bool operator()(const Due& a, const Due& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  bool live(uint32_t slot, uint32_t gen) const {
    return slot < slots_.size() && slots_[slot].gen == gen && slots_[slot].fn;
  }
  size_t live_timers() const { return slots_.size() - free_.size(); }
  std::function<void()> take(uint32_t slot);
  void run_slot(uint32_t slot, uint32_t gen);
  void fire();
  void arm();

  asio::io_context io_;
  asio::steady_timer timer_{io_};
  std::optional<TimePoint> armed_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<Due> heap_;
  uint64_t seq_ = 0;
};

}  // namespace anycastd::rt
