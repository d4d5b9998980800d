#pragma once
// A subsystem's logger (bgp, health, proxy, fib, api), so `--log-level info,bgp=debug`
// can set them apart. Falls back to the default logger when none is registered (tests,
// the lab).
#include <spdlog/spdlog.h>

namespace anycastd {

inline spdlog::logger& sub(const char* name) {
  auto l = spdlog::get(name);
  return l ? *l : *spdlog::default_logger();
}

}  // namespace anycastd
