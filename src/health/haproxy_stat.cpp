#include "health/haproxy_stat.hpp"

#include <vector>

namespace anycastd::health {
namespace {

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t c = line.find(',', start);
    out.push_back(line.substr(start, c == std::string_view::npos ? c : c - start));
    if (c == std::string_view::npos) return out;
    start = c + 1;
  }
}

}  // namespace

std::optional<std::string> haproxy_status(std::string_view csv, std::string_view backend,
                                          std::string_view server) {
  size_t px = std::string_view::npos, sv = px, st = px;
  bool header = false;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t nl = csv.find('\n', pos);
    std::string_view line = csv.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? csv.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("# ", 0) == 0) {
      auto cols = split(line.substr(2));
      for (size_t i = 0; i < cols.size(); ++i) {
        if (cols[i] == "pxname") px = i;
        if (cols[i] == "svname") sv = i;
        if (cols[i] == "status") st = i;
      }
      header = px != std::string_view::npos && sv != std::string_view::npos &&
               st != std::string_view::npos;
      continue;
    }
    if (!header || line.empty()) continue;
    auto f = split(line);
    if (f.size() > st && f.size() > px && f.size() > sv && f[px] == backend && f[sv] == server)
      return std::string(f[st]);
  }
  return std::nullopt;
}

bool haproxy_status_up(std::string_view s) {
  return s.rfind("UP", 0) == 0 || s == "no check" || s == "OPEN";
}

}  // namespace anycastd::health
