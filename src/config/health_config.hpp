#pragma once
// The `checks:` section and each VIP's `health:` settings, and their printed form.
#include "config/yaml_reader.hpp"
#include "health/monitor.hpp"

namespace anycastd::config {

std::vector<health::CheckConfig> read_checks(const YamlReader& r, const YAML::Node& n);
// `checks` are the configured ones, so a VIP naming an unknown check fails at its line.
health::VipHealthConfig read_vip_health(const YamlReader& r, const YAML::Node& n,
                                        const std::string& path,
                                        const std::vector<health::CheckConfig>& checks);

std::string print_checks(const std::vector<health::CheckConfig>& c);
std::string print_vip_health(const health::VipHealthConfig& v, const std::string& indent);

}  // namespace anycastd::config
