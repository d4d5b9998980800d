#pragma once
// GET /healthz: whether this NVA should receive traffic now, for a load balancer's probe
// (Azure's internal load balancer in front of several NVAs), and why not. Pure: it reads the
// daemon's parts.
#include <string>

#include "api/control.hpp"
#include "config/config.hpp"

namespace anycastd::daemon {

struct Healthz {
  bool ok = false;
  std::string reason;  // one line for the probe's body and the operator
};

Healthz healthz(config::MetricsConfig::Healthz rule, const api::Parts& d);

}  // namespace anycastd::daemon
