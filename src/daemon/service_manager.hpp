#pragma once
// Tells systemd (Type=notify) where the daemon is: ready once sessions and checks are
// started, alive every half watchdog period, stopping when a drain begins. Does nothing
// when not started by systemd, or when built without libsystemd.
#include <string>

#include "runtime/scoped_timer.hpp"

namespace anycastd::daemon {

class ServiceManager {
 public:
  explicit ServiceManager(Loop& loop) : loop_(loop) {}
  void ready();
  void stopping(const std::string& why);

 private:
  void keep_alive(Duration every);
  Loop& loop_;
  ScopedTimer watchdog_{loop_};
};

}  // namespace anycastd::daemon
