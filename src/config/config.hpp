#pragma once
// anycastd's configuration file: loading, validation, and the canonical printed form.
#include <optional>
#include <string>
#include <vector>

#include "bgp/peer_config.hpp"
#include "core/result.hpp"
#include "fib/fib_config.hpp"
#include "health/monitor.hpp"
#include "proxy/service_config.hpp"

namespace anycastd::config {

struct ControlConfig {
  std::string socket = "/run/anycastd/anycastd.sock";  // empty: no control socket
  unsigned mode = 0600;
};

// The Prometheus listener; off unless configured.
struct MetricsConfig {
  std::optional<IpAddress> address;  // set: on; 127.0.0.1 when only the port is given
  uint16_t port = 9179;
  // When GET /healthz answers 200 (this NVA should receive traffic), for a load balancer's
  // probe: any VIP announced, every VIP announced, a BGP session up, or not draining.
  enum class Healthz { any_vip, all_vips, session, not_draining } healthz = Healthz::any_vip;
};

const char* to_string(MetricsConfig::Healthz h);

struct Config {
  bgp::SpeakerConfig bgp;
  ControlConfig control;
  MetricsConfig metrics;
  fib::FibConfig fib;
  health::HealthConfig health;
  proxy::ProxyConfig proxy;
  // What loaded but deserves a word (a world-readable password file), as file:line:col.
  std::vector<std::string> warnings;
};

// Names where the problem is, as editors and compilers do: file:line:column.
struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when the position is unknown
  int column = 0;  // 1-based
  std::string field;
  std::string message;
  std::string to_string() const;
};

Result<Config, ConfigError> load_file(const std::string& path);
Result<Config, ConfigError> load_string(const std::string& text, const std::string& name);

// Why `next` cannot replace `running` without a restart, or nullopt when only peers and
// VIP announcement settings differ (what a reload applies). Names the first other line
// that changed, in the printed form.
std::optional<std::string> reload_blocker(const Config& running, const Config& next);
// The first line where two printed configurations differ, for reload_blocker's answer:
// "'new' (was 'old')", "'line' (new)" or "'line' (removed)" when one text ends first.
std::string first_changed_line(const std::string& before, const std::string& after);

// Every setting, defaults included, as YAML that load_string reads back to the same Config.
std::string print(const Config& c);

}  // namespace anycastd::config
