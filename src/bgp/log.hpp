#pragma once
// The BGP subsystem's logger ("bgp"), so its level can be set apart from the rest
// (`--log-level info,bgp=debug`). Falls back to the default logger when none is registered.
#include <spdlog/spdlog.h>

namespace anycastd::bgp {

inline spdlog::logger& log() {
  auto l = spdlog::get("bgp");
  return l ? *l : *spdlog::default_logger();
}

}  // namespace anycastd::bgp
