#pragma once
// Typed reads from a YAML tree that remember where each value came from, so a bad value
// is reported at its own line and column, with its dotted field path.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_syntax.hpp"
#include "core/ip.hpp"
#include "core/time.hpp"

namespace anycastd::config {

class ConfigFail {
 public:
  ConfigError error;
};

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& field,
                         const std::string& msg) const;
  // A problem that does not stop the load, kept with its position for Config::warnings.
  void warn(const YAML::Node& at, const std::string& field, const std::string& msg) const;
  const std::vector<std::string>& warnings() const { return warnings_; }
  // `path` as the file names it: relative to the directory of the file being read.
  std::string beside(const std::string& path) const;
  // Rejects keys outside `allowed`, naming the first unknown one.
  void only_keys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed) const;
  const YAML::Node& require_map(const YAML::Node& n, const std::string& path) const;

  uint64_t integer(const YAML::Node& n, const std::string& path, uint64_t min, uint64_t max) const;
  bool boolean(const YAML::Node& n, const std::string& path) const;
  std::string string(const YAML::Node& n, const std::string& path) const;
  IpAddress address(const YAML::Node& n, const std::string& path) const;
  Prefix prefix(const YAML::Node& n, const std::string& path) const;
  uint32_t asn(const YAML::Node& n, const std::string& path) const;
  // Seconds, fractions allowed (0.2 = 200 ms), as HAProxy's `inter 200ms` and ExaBGP's
  // healthcheck `--interval`.
  Duration seconds(const YAML::Node& n, const std::string& path, double min, double max) const;

 private:
  ConfigError error_at(const YAML::Node& at, const std::string& field,
                       const std::string& msg) const;
  std::string file_;
  mutable std::vector<std::string> warnings_;
};

// The whole of a file, or a ConfigError naming it.
Result<std::string, ConfigError> read_text(const std::string& path);

// Parses `text` (from `name`) and reads the tree with `read`. Whatever goes wrong on the way
// -- YAML syntax, a value the reader refused, anything else thrown -- comes back as a
// ConfigError with the position where one is known: never as an exception.
template <typename T, typename Read>
Result<T, ConfigError> load_yaml(const std::string& text, const std::string& name, Read&& read) {
  try {
    return read(YAML::Load(text));
  } catch (const ConfigFail& f) {
    return Err(f.error);
  } catch (const YAML::Exception& e) {
    return Err(yaml_syntax_error(text, name, e.mark, e.msg));
  } catch (const std::exception& e) {
    return Err(ConfigError{name, 0, 0, "", e.what()});
  }
}

// The printed form of a duration, read back by seconds().
std::string secs(Duration d);

}  // namespace anycastd::config
