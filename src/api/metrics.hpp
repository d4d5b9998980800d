#pragma once
// Prometheus text exposition (format 0.0.4) of the running parts: BGP sessions, VIPs,
// checks and the proxy. Names carry the `anycastd_` prefix, counters end in `_total`,
// times are in seconds and sizes in bytes.
#include <string>

#include "api/control.hpp"

namespace anycastd::api {

// `started_unix`: the process start as Unix time, for anycastd_process_start_time_seconds.
std::string metrics_text(const Parts& d, double started_unix);

}  // namespace anycastd::api
