#include "daemon/service_manager.hpp"

#ifdef ANYCASTD_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace anycastd::daemon {

void ServiceManager::ready() {
#ifdef ANYCASTD_SYSTEMD
  sd_notify(0, "READY=1\nSTATUS=announcing");
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) keep_alive(std::chrono::microseconds(usec / 2));
#endif
}

void ServiceManager::stopping(const std::string& why) {
#ifdef ANYCASTD_SYSTEMD
  sd_notifyf(0, "STOPPING=1\nSTATUS=%s", why.c_str());
#else
  (void)why;
#endif
}

void ServiceManager::keep_alive(Duration every) {
#ifdef ANYCASTD_SYSTEMD
  // On the control loop: a loop that stops turning stops the pings, and systemd restarts.
  sd_notify(0, "WATCHDOG=1");
  watchdog_.arm(every, [this, every] { keep_alive(every); });
#else
  (void)every;
#endif
}

}  // namespace anycastd::daemon
