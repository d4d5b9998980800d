#pragma once
// All checks and the VIPs that depend on them: each check result that flips a backend
// re-evaluates the VIPs using it, and a changed announcement goes to on_announce (the BGP
// speaker). Runs on the loop; probes come from a factory so the simulator can supply its own.
#include <map>
#include <memory>

#include "core/ip.hpp"
#include "health/checker.hpp"
#include "health/vip_health.hpp"

namespace anycastd::health {

struct HealthConfig {
  std::vector<CheckConfig> checks;
  std::map<Prefix, VipHealthConfig> vips;
};

class Monitor {
 public:
  using ProbeFactory = std::function<std::unique_ptr<Probe>(const CheckConfig&)>;
  Monitor(Loop& loop, HealthConfig cfg, ProbeFactory probes, Transport* watch, uint64_t seed = 1);
  ~Monitor();

  void start();
  void stop();
  // Reload: a check whose settings did not change keeps running with its state; a changed
  // or new one starts afresh (down until it rises); a removed one stops. A VIP whose health
  // settings changed, or that is new, is judged again from the checks' current states.
  // Returns what changed, for the log and the reload's answer.
  std::vector<std::string> reconfigure(HealthConfig next);
  // Planned maintenance (RFC 8326): announce with GRACEFUL_SHUTDOWN, then withdraw after
  // the VIP's drain-time. False for a VIP without health settings.
  bool drain(const Prefix& vip);
  bool undrain(const Prefix& vip);
  // Drains every VIP; returns the longest drain-time, after which all are withdrawn.
  Duration drain_all();

  Loop& loop() const { return loop_; }
  Checker* checker(const std::string& name);
  const VipHealth* vip(const Prefix& p) const;
  const std::map<Prefix, VipHealth>& vips() const { return vips_; }
  const std::vector<std::unique_ptr<Checker>>& checkers() const { return checkers_; }

  std::function<void(const Prefix&, const VipAnnouncement&, const VipHealth&)> on_announce;
  std::function<void(const Checker&, bool flipped)> on_check;

 private:
  void evaluate(const Prefix& p, VipHealth& v);
  std::unique_ptr<Checker> make_checker(const CheckConfig& c);
  void forget(const Prefix& p);
  void publish(const Prefix& p, VipHealth& v);

  Loop& loop_;
  HealthConfig cfg_;
  ProbeFactory probes_;
  Transport* watch_;
  uint64_t seed_;
  bool started_ = false;
  std::vector<std::unique_ptr<Checker>> checkers_;
  std::map<std::string, Checker*> by_name_;
  std::map<Prefix, VipHealth> vips_;
  std::map<Prefix, VipAnnouncement> published_;
  std::map<Prefix, TimerId> wake_;
};

}  // namespace anycastd::health
