#pragma once
// Tells systemd (Type=notify) where the daemon is: ready once sessions and checks are
// started, alive every half watchdog period, stopping when a drain begins. Does nothing
// when not started by systemd, or when built without libsystemd.
#include <string>

#include "runtime/asio/asio_loop.hpp"

namespace anycastd {

class ServiceManager {
 public:
  explicit ServiceManager(rt::AsioLoop& loop) : loop_(loop) {}
  void ready();
  void stopping(const std::string& why);

 private:
  void keep_alive(Duration every);
  rt::AsioLoop& loop_;
};

}  // namespace anycastd
