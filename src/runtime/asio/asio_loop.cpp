#include "runtime/asio/asio_loop.hpp"

#include <algorithm>
#include <asio/post.hpp>

#include "core/internal_error.hpp"

namespace anycastd::rt {

AsioLoop::~AsioLoop() {
  // Callbacks are destroyed with the table already empty, so one that cancels a timer from
  // its destructor finds nothing rather than a table half torn down.
  auto slots = std::move(slots_);
  slots_.clear();
  heap_.clear();
}

TimePoint AsioLoop::now() const {
  return TimePoint(
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

TimerId AsioLoop::schedule(Duration d, std::function<void()> fn) {
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.fn = std::move(fn);
  TimerId id = (static_cast<uint64_t>(s.gen) << 32) | slot;
  if (d <= Duration::zero()) {
    // Runs on the loop's next turn without touching the heap or the kernel's timer.
    asio::post(io_, [this, slot, gen = s.gen] { run_slot(slot, gen); });
    return id;
  }
  heap_.push_back({now() + d, seq_++, slot, s.gen});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  if (heap_.size() > 1024 && heap_.size() > 4 * live_timers()) {
    std::erase_if(heap_, [this](const Due& e) { return !live(e.slot, e.gen); });
    std::make_heap(heap_.begin(), heap_.end(), Later{});
  }
  arm();
  return id;
}

void AsioLoop::cancel(TimerId id) {
  auto slot = static_cast<uint32_t>(id);
  if (!live(slot, static_cast<uint32_t>(id >> 32))) return;
  auto fn = take(slot);  // destroyed after the slot is free: its destructor may use the loop
}

std::function<void()> AsioLoop::take(uint32_t slot) {
  Slot& s = slots_[slot];
  auto fn = std::move(s.fn);
  s.fn = nullptr;
  if (++s.gen == 0) s.gen = 1;  // ids are never 0
  free_.push_back(slot);
  return fn;
}

void AsioLoop::run_slot(uint32_t slot, uint32_t gen) {
  if (!live(slot, gen)) return;
  auto fn = take(slot);
  guarded("a timer or posted callback", fn);
}

void AsioLoop::run() {
  // A handler that throws (a socket's, a signal's) is dropped and the loop turns on: an
  // exception out of run() would end the process, every BGP session and VIP with it.
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      report_internal_error("an event on the loop", e.what());
    } catch (...) {
      report_internal_error("an event on the loop", "an exception of unknown type");
    }
  }
}

void AsioLoop::fire() {
  armed_.reset();
  TimePoint t = now();
  while (!heap_.empty() && heap_.front().at <= t) {
    Due d = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    run_slot(d.slot, d.gen);
  }
  arm();
}

void AsioLoop::arm() {
  while (!heap_.empty() && !live(heap_.front().slot, heap_.front().gen)) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
  if (heap_.empty()) return;  // a wait still armed fires once for nothing
  TimePoint at = heap_.front().at + kTimerSlack;
  if (armed_ && *armed_ <= at) return;
  armed_ = at;
  timer_.expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(at.time_since_epoch())));
  timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) fire();
  });
}

}  // namespace anycastd::rt
