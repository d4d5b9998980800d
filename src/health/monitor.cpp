#include "health/monitor.hpp"

#include <algorithm>
#include <set>

namespace anycastd::health {

Monitor::Monitor(Loop& loop, HealthConfig cfg, ProbeFactory probes, Transport* watch, uint64_t seed)
    : loop_(loop), cfg_(std::move(cfg)), probes_(std::move(probes)), watch_(watch), seed_(seed) {
  for (const auto& c : cfg_.checks) {
    checkers_.push_back(make_checker(c));
    by_name_[c.name] = checkers_.back().get();
  }
  for (const auto& [p, v] : cfg_.vips) vips_.emplace(p, VipHealth(v));
}

std::unique_ptr<Checker> Monitor::make_checker(const CheckConfig& c) {
  auto ch = std::make_unique<Checker>(loop_, c, probes_(c), watch_, seed_++);
  ch->on_result = [this](Checker& k, bool flipped) {
    if (on_check) on_check(k, flipped);
    if (!flipped) return;
    for (auto& [p, v] : vips_) {
      const auto& names = v.config().checks;
      if (std::find(names.begin(), names.end(), k.config().name) != names.end()) evaluate(p, v);
    }
  };
  return ch;
}

void Monitor::forget(const Prefix& p) {
  if (auto it = wake_.find(p); it != wake_.end()) loop_.cancel(it->second);
  wake_.erase(p);
  published_.erase(p);
  vips_.erase(p);
}

std::vector<std::string> Monitor::reconfigure(HealthConfig next) {
  std::vector<std::string> out;
  std::vector<std::unique_ptr<Checker>> kept;
  std::set<std::string> renewed;
  for (const auto& c : next.checks) {
    auto it = std::find_if(checkers_.begin(), checkers_.end(),
                           [&](const auto& k) { return k && k->config().name == c.name; });
    if (it != checkers_.end() && (*it)->config() == c) {
      kept.push_back(std::move(*it));
      continue;
    }
    out.push_back("check " + c.name + (it == checkers_.end() ? " added" : " changed"));
    kept.push_back(make_checker(c));
    // Same target, new settings: carry on from the old verdict. A new target starts down.
    if (it != checkers_.end() && (*it)->config().target == c.target &&
        (*it)->config().type == c.type)
      kept.back()->assume((*it)->state());
    if (it != checkers_.end()) it->reset();
    renewed.insert(c.name);
    if (started_) kept.back()->start();
  }
  for (const auto& k : checkers_)
    if (k) out.push_back("check " + k->config().name + " removed");
  checkers_ = std::move(kept);  // the removed ones stop here
  by_name_.clear();
  for (auto& k : checkers_) by_name_[k->config().name] = k.get();

  for (auto it = vips_.begin(); it != vips_.end();) {
    auto p = it++->first;
    if (!next.vips.count(p)) {
      out.push_back("VIP " + p.to_string() + " health removed");
      forget(p);
    }
  }
  for (const auto& [p, v] : next.vips) {
    auto it = vips_.find(p);
    bool uses_renewed = std::any_of(v.checks.begin(), v.checks.end(),
                                    [&](const std::string& n) { return renewed.count(n) > 0; });
    if (it != vips_.end() && it->second.config() == v) {
      if (uses_renewed) evaluate(p, it->second);
      continue;
    }
    out.push_back("VIP " + p.to_string() + " health " + (it == vips_.end() ? "added" : "changed"));
    if (it != vips_.end()) {
      if (auto w = wake_.find(p); w != wake_.end()) loop_.cancel(w->second);
      wake_.erase(p);
      vips_.erase(it);
    }
    auto& fresh = vips_.emplace(p, VipHealth(v)).first->second;
    evaluate(p, fresh);
  }
  cfg_ = std::move(next);
  return out;
}

Monitor::~Monitor() {
  stop();
}

void Monitor::start() {
  started_ = true;
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
