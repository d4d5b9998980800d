#pragma once
// A YAML syntax error as a user can act on it: at the line of the fault (an unclosed '['
// or '{' is reported where it opens, not where the parser noticed), with what was expected.
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config.hpp"

namespace anycastd::config {

ConfigError yaml_syntax_error(const std::string& text, const std::string& file,
                              const YAML::Mark& mark, const std::string& msg);

}  // namespace anycastd::config
