#pragma once
// The `policies:` and `decision:` sections of the configuration, and their printed form.
#include <map>
#include <string>

#include "config/yaml_reader.hpp"
#include "policy/policy.hpp"
#include "rib/decision.hpp"

namespace anycastd::config {

// Names every policy can use besides the configured ones.
inline constexpr const char* kAcceptPolicy = "accept";
inline constexpr const char* kRejectPolicy = "reject";

std::map<std::string, policy::Policy> read_policies(const YamlReader& r, const YAML::Node& n);
rib::DecisionConfig read_decision(const YamlReader& r, const YAML::Node& n);

std::string print_policies(const std::map<std::string, policy::Policy>& p);
std::string print_decision(const rib::DecisionConfig& d);

}  // namespace anycastd::config
