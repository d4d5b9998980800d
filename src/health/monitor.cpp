#include "health/monitor.hpp"

namespace anycastd::health {

Monitor::Monitor(Loop& loop, HealthConfig cfg, ProbeFactory probes, Transport* watch, uint64_t seed)
    : loop_(loop), cfg_(std::move(cfg)) {
  for (const auto& c : cfg_.checks) {
    auto ch = std::make_unique<Checker>(loop_, c, probes(c), watch, seed++);
    by_name_[c.name] = ch.get();
    ch->on_result = [this](Checker& k, bool flipped) {
      if (on_check) on_check(k, flipped);
      if (!flipped) return;
      for (auto& [p, v] : vips_) {
        const auto& names = v.config().checks;
        if (std::find(names.begin(), names.end(), k.config().name) != names.end()) evaluate(p, v);
      }
    };
    checkers_.push_back(std::move(ch));
  }
  for (const auto& [p, v] : cfg_.vips) vips_.emplace(p, VipHealth(v));
}

Monitor::~Monitor() {
  stop();
}

void Monitor::start() {
  for (auto& c : checkers_) c->start();
}

void Monitor::stop() {
  for (auto& c : checkers_) c->stop();
  for (auto& [p, t] : wake_) loop_.cancel(t);
  wake_.clear();
}

Checker* Monitor::checker(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const VipHealth* Monitor::vip(const Prefix& p) const {
  auto it = vips_.find(p);
  return it == vips_.end() ? nullptr : &it->second;
}

void Monitor::evaluate(const Prefix& p, VipHealth& v) {
  size_t healthy = 0;
  for (const auto& n : v.config().checks)
    if (auto* c = checker(n); c && c->state().up()) ++healthy;
  v.update(healthy, v.config().checks.size(), loop_.now());
  publish(p, v);
}

void Monitor::publish(const Prefix& p, VipHealth& v) {
  if (auto it = wake_.find(p); it != wake_.end()) loop_.cancel(it->second);
  wake_.erase(p);
  if (auto t = v.next_deadline()) {
    auto d = *t - loop_.now();
    wake_[p] = loop_.schedule(d > Duration::zero() ? d : Duration::zero(), [this, p] {
      wake_.erase(p);
      auto& vh = vips_.at(p);
      vh.tick(loop_.now());
      publish(p, vh);
    });
  }
  auto a = v.announcement();
  auto it = published_.find(p);
  if (it != published_.end() && it->second == a) return;
  published_[p] = a;
  if (on_announce) on_announce(p, a, v);
}

bool Monitor::drain(const Prefix& p) {
  auto it = vips_.find(p);
  if (it == vips_.end()) return false;
  it->second.drain(loop_.now());
  publish(p, it->second);
  return true;
}

bool Monitor::undrain(const Prefix& p) {
  auto it = vips_.find(p);
  if (it == vips_.end()) return false;
  it->second.undrain(loop_.now());
  publish(p, it->second);
  return true;
}

Duration Monitor::drain_all() {
  Duration longest{};
  for (auto& [p, v] : vips_) {
    // Only an announced VIP has traffic to move away; a withdrawn one needs no wait.
    auto pub = published_.find(p);
    if (pub != published_.end() && pub->second.announce)
      longest = std::max(longest, v.config().drain_time);
    drain(p);
  }
  return longest;
}

}  // namespace anycastd::health
