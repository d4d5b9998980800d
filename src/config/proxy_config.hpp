#pragma once
// The `services:` and `proxy:` sections: the VIP's listeners and their backends.
#include "config/yaml_reader.hpp"
#include "health/check_config.hpp"
#include "proxy/service_config.hpp"

namespace anycastd::config {

// `checks` are the configured ones, so a backend naming an unknown check fails at its line.
// Services that do not say take `default_forwarding` (the `proxy:` section's).
std::vector<proxy::ServiceConfig> read_services(const YamlReader& r, const YAML::Node& n,
                                                const std::vector<health::CheckConfig>& checks,
                                                proxy::Forwarding default_forwarding);
// The `proxy:` section: threads and the default forwarding.
void read_proxy(const YamlReader& r, const YAML::Node& n, proxy::ProxyConfig& p);
std::string print_proxy(const proxy::ProxyConfig& p);

}  // namespace anycastd::config
