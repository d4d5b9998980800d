#include "runtime/sim/sim_loop.hpp"

namespace anycastd::sim {

TimerId SimLoop::schedule(Duration d, std::function<void()> fn) {
  TimerId id = next_id_++;
  TimePoint at = now_ + (d < Duration::zero() ? Duration::zero() : d);
  queue_.emplace(std::make_pair(at, id), std::move(fn));
  due_[id] = at;
  return id;
}

void SimLoop::cancel(TimerId id) {
  auto it = due_.find(id);
  if (it == due_.end()) return;
  queue_.erase({it->second, id});
  due_.erase(it);
}

void SimLoop::run_until(TimePoint until) {
  while (!queue_.empty() && queue_.begin()->first.first <= until) {
    auto node = queue_.extract(queue_.begin());
    now_ = node.key().first;
    due_.erase(node.key().second);
    node.mapped()();
  }
  if (now_ < until) now_ = until;
}

bool SimLoop::run_until_idle(Duration limit) {
  TimePoint stop = now_ + limit;
  while (!queue_.empty()) {
    if (queue_.begin()->first.first > stop) return false;
    run_until(queue_.begin()->first.first);
  }
  return true;
}

}  // namespace anycastd::sim
