#include "health/vip_health.hpp"

#include <algorithm>

namespace anycastd::health {

std::string to_string(VipStatus s) {
  switch (s) {
    case VipStatus::announced:
      return "announced";
    case VipStatus::degraded:
      return "degraded";
    case VipStatus::withdrawn:
      return "withdrawn";
    case VipStatus::held_down:
      return "held down";
    case VipStatus::draining:
      return "draining";
    case VipStatus::drained:
      return "drained";
  }
  return "?";
}

bool VipHealth::rule(size_t healthy, size_t total) const {
  switch (cfg_.rule) {
    case VipHealthConfig::Rule::any:
      return healthy > 0;
    case VipHealthConfig::Rule::all:
      return total > 0 && healthy == total;
    case VipHealthConfig::Rule::min:
      return healthy >= cfg_.min;
    case VipHealthConfig::Rule::min_percent:
      return total > 0 && healthy * 100 >= size_t{cfg_.min} * total && healthy > 0;
  }
  return false;
}

void VipHealth::update(size_t healthy, size_t total, TimePoint now) {
  healthy_ = healthy;
  total_ = total;
  bool ok = rule(healthy, total);
  if (known_ && ok != healthy_ok_ && cfg_.damping.changes) {
    changes_.push_back(now);
    while (!changes_.empty() && now - changes_.front() > cfg_.damping.window) changes_.pop_front();
    if (changes_.size() > cfg_.damping.changes && !held_until_) {
      if (next_hold_ == Duration{}) next_hold_ = cfg_.damping.hold;
      held_until_ = now + next_hold_;
      next_hold_ = std::min(next_hold_ * 2, cfg_.damping.max_hold);
      changes_.clear();
    }
  }
  known_ = true;
  healthy_ok_ = ok;
  settle(now);
}

void VipHealth::drain(TimePoint now) {
  if (draining_) return;
  draining_ = true;
  // Nothing announced, nothing to move away gently: drained at once.
  bool on_air = status_ == VipStatus::announced || status_ == VipStatus::degraded;
  drain_end_ = on_air ? now + cfg_.drain_time : now;
  settle(now);
}

void VipHealth::undrain(TimePoint now) {
  if (!draining_) return;
  draining_ = false;
  drain_end_.reset();
  settle(now);
}

void VipHealth::tick(TimePoint now) {
  if (held_until_ && now >= *held_until_) held_until_.reset();
  settle(now);
}

std::optional<TimePoint> VipHealth::next_deadline() const {
  std::optional<TimePoint> t;
  if (held_until_) t = held_until_;
  if (drain_end_ && status_ == VipStatus::draining && (!t || *drain_end_ < *t)) t = drain_end_;
  return t;
}

void VipHealth::settle(TimePoint now) {
  std::string counts = std::to_string(healthy_) + " of " + std::to_string(total_) + " healthy";
  if (draining_) {
    if (drain_end_ && now >= *drain_end_)
      set(VipStatus::drained, "drained for maintenance", now);
    else if (status_ != VipStatus::draining)
      set(VipStatus::draining, "drain requested: GRACEFUL_SHUTDOWN announced", now);
    return;
  }
  if (held_until_) {
    set(VipStatus::held_down,
        "flapping: more than " + std::to_string(cfg_.damping.changes) +
            " changes in the damping window",
        now);
    return;
  }
  if (!known_) return;
  if (healthy_ok_)
    set(VipStatus::announced, counts, now);
  else if (cfg_.action == VipHealthConfig::Action::degrade)
    set(VipStatus::degraded, counts, now);
  else
    set(VipStatus::withdrawn, counts, now);
}

void VipHealth::set(VipStatus s, std::string why, TimePoint now) {
  if (s != status_) since_ = now;
  status_ = s;
  reason_ = std::move(why);
}

VipAnnouncement VipHealth::announcement() const {
  VipAnnouncement a;
  switch (status_) {
    case VipStatus::announced:
      a.announce = true;
      break;
    case VipStatus::degraded:
      a.announce = true;
      a.extra_prepend = cfg_.degrade.prepend;
      a.communities = cfg_.degrade.communities;
      a.med = cfg_.degrade.med;
      break;
    case VipStatus::draining:
      a.announce = true;
      a.extra_prepend = cfg_.drain_prepend;
      a.communities = {kGracefulShutdown};
      break;
    case VipStatus::withdrawn:
    case VipStatus::held_down:
    case VipStatus::drained:
      break;
  }
  return a;
}

}  // namespace anycastd::health
