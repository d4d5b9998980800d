#include "config/yaml_reader.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace anycastd::config {

ConfigError YamlReader::error_at(const YAML::Node& at, const std::string& field,
                                 const std::string& msg) const {
  ConfigError e{file_, 0, 0, field, msg};
  if (at.IsDefined() && at.Mark().line >= 0) {
    e.line = at.Mark().line + 1;
    e.column = at.Mark().column + 1;
  }
  return e;
}

void YamlReader::fail(const YAML::Node& at, const std::string& field,
                      const std::string& msg) const {
  throw ConfigFail{error_at(at, field, msg)};
}

void YamlReader::warn(const YAML::Node& at, const std::string& field,
                      const std::string& msg) const {
  warnings_.push_back(error_at(at, field, msg).to_string());
}

std::string YamlReader::beside(const std::string& path) const {
  auto slash = file_.rfind('/');
  if (path.empty() || path[0] == '/' || slash == std::string::npos) return path;
  return file_.substr(0, slash + 1) + path;
}

const YAML::Node& YamlReader::require_map(const YAML::Node& n, const std::string& path) const {
  if (!n.IsMap()) fail(n, path, "expected a mapping of key: value");
  return n;
}

void YamlReader::only_keys(const YAML::Node& map, const std::string& path,
                           const std::set<std::string>& allowed) const {
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(kv.first, path.empty() ? key : path + "." + key,
           "unknown key '" + key + "' (expected one of: " + list + ")");
    }
  }
}

std::string YamlReader::string(const YAML::Node& n, const std::string& path) const {
  if (!n.IsScalar()) fail(n, path, "expected a single value");
  return n.Scalar();
}

uint64_t YamlReader::integer(const YAML::Node& n, const std::string& path, uint64_t min,
                             uint64_t max) const {
  auto s = string(n, path);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    fail(n, path, "'" + s + "' is not a whole number");
  if (v < min || v > max)
    fail(
        n, path,
        std::to_string(v) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
  return v;
}

bool YamlReader::boolean(const YAML::Node& n, const std::string& path) const {
  auto s = string(n, path);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail(n, path, "'" + s + "' is not true or false");
}

IpAddress YamlReader::address(const YAML::Node& n, const std::string& path) const {
  auto s = string(n, path);
  auto a = IpAddress::parse(s);
  if (!a) fail(n, path, "'" + s + "' is not an IPv4 or IPv6 address");
  return *a;
}

Prefix YamlReader::prefix(const YAML::Node& n, const std::string& path) const {
  auto s = string(n, path);
  auto p = Prefix::parse(s);
  if (!p) fail(n, path, "'" + s + "' is not a prefix (address/length, no host bits set)");
  return *p;
}

uint32_t YamlReader::asn(const YAML::Node& n, const std::string& path) const {
  auto s = string(n, path);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    fail(n, path, "'" + s + "' is not an AS number");
  if (v < 1 || v > 4294967295ull || v == 23456)
    fail(n, path, "AS number " + s + " is out of range 1..4294967295 (23456 is AS_TRANS)");
  return static_cast<uint32_t>(v);
}

Duration YamlReader::seconds(const YAML::Node& n, const std::string& path, double min,
                             double max) const {
  double v = 0;
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    fail(n, path, "expected a number of seconds, like 1 or 0.2");
  }
  if (!(v >= min && v <= max) || std::isnan(v)) {
    std::ostringstream o;
    o << "out of range: must be between " << min << " and " << max << " seconds";
    fail(n, path, o.str());
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v));
}

Result<std::string, ConfigError> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Err(ConfigError{path, 0, 0, "", "cannot open file"});
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Err(ConfigError{path, 0, 0, "", "cannot read file"});
  return ss.str();
}

std::string secs(Duration d) {
  std::ostringstream o;
  o << std::chrono::duration<double>(d).count();
  return o.str();
}

}  // namespace anycastd::config
