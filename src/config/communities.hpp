#pragma once
// Community values as the configuration writes them: "65010:100", "graceful-shutdown",
// "65010:1:2".
#include <vector>

#include "config/yaml_reader.hpp"
#include "wire/message.hpp"

namespace anycastd::config {

uint32_t community(const YamlReader& r, const YAML::Node& n, const std::string& path);
bgp::LargeCommunity large_community(const YamlReader& r, const YAML::Node& n,
                                    const std::string& path);
std::vector<uint32_t> communities(const YamlReader& r, const YAML::Node& n,
                                  const std::string& path);
std::vector<bgp::LargeCommunity> large_communities(const YamlReader& r, const YAML::Node& n,
                                                   const std::string& path);

}  // namespace anycastd::config
