#include "config/communities.hpp"

#include <charconv>

namespace anycastd::config {

namespace {

std::optional<uint32_t> parse_u32(std::string_view s, uint64_t max) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

uint32_t community(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  auto s = r.string(n, path);
  // RFC 8326's well-known name, since drain will use it.
  if (s == "graceful-shutdown") return 0xFFFF0000u;
  auto colon = s.find(':');
  auto hi = parse_u32(std::string_view(s).substr(0, colon), 0xFFFF);
  auto lo = colon == std::string::npos ? std::nullopt
                                       : parse_u32(std::string_view(s).substr(colon + 1), 0xFFFF);
  if (!hi || !lo) r.fail(n, path, "'" + s + "' is not a community ASN:VALUE, each 0..65535");
  return (*hi << 16) | *lo;
}

bgp::LargeCommunity large_community(const YamlReader& r, const YAML::Node& n,
                                    const std::string& path) {
  auto s = r.string(n, path);
  std::optional<uint32_t> parts[3];
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = i < 2 ? s.find(':', start) : s.size();
    if (end == std::string::npos) break;
    parts[i] = parse_u32(std::string_view(s).substr(start, end - start), 0xFFFFFFFFu);
    start = end + 1;
  }
  if (!parts[0] || !parts[1] || !parts[2] || s.find(':', s.rfind(':') + 1) != std::string::npos)
    r.fail(n, path, "'" + s + "' is not a large community GLOBAL:LOCAL1:LOCAL2");
  return {*parts[0], *parts[1], *parts[2]};
}

std::vector<uint32_t> communities(const YamlReader& r, const YAML::Node& n,
                                  const std::string& path) {
  if (!n.IsSequence()) r.fail(n, path, "expected a list");
  std::vector<uint32_t> out;
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(community(r, n[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<bgp::LargeCommunity> large_communities(const YamlReader& r, const YAML::Node& n,
                                                   const std::string& path) {
  if (!n.IsSequence()) r.fail(n, path, "expected a list");
  std::vector<bgp::LargeCommunity> out;
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(large_community(r, n[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace anycastd::config
