#include "lab/route_table.hpp"

#include <algorithm>
#include <map>

namespace anycastd::lab {

using namespace rib;

std::vector<const Path*> ranked(const Rib& rib, const Entry& e) {
  std::vector<const Path*> rest;
  for (const auto& p : e.paths) rest.push_back(&p);
  std::vector<const Path*> out;
  // Selection by pairwise comparison: the MED step is not transitive, so a sort with it
  // as comparator would be undefined; the chosen path always comes first.
  while (!rest.empty()) {
    size_t pick = 0;
    for (size_t i = 1; i < rest.size(); ++i) {
      if (rest[i]->best) {
        pick = i;
        break;
      }
      if (rest[pick]->best) break;
      auto v = compare(*rest[i], rib.neighbour(rest[i]->peer), *rest[pick],
                       rib.neighbour(rest[pick]->peer), rib.config().decision);
      if (v.order < 0) pick = i;
    }
    out.push_back(rest[pick]);
    rest.erase(rest.begin() + static_cast<ptrdiff_t>(pick));
  }
  return out;
}

std::string az_route_table(const Rib& rib) {
  std::vector<AzRow> rows;
  std::map<Prefix, const Entry*> sorted;
  for (const auto& [prefix, e] : rib.loc_rib()) sorted.emplace(prefix, &e);
  for (const auto& [prefix, e] : sorted) {
    for (const Path* p : ranked(rib, *e)) {
      const auto& a = *p->attrs;
      rows.push_back({std::to_string(a.local_pref.value_or(100)), prefix.to_string(),
                      (a.next_hop ? a.next_hop->to_string() : std::string("0.0.0.0")) +
                          (p->best || p->multipath ? "*" : ""),
                      a.as_path ? a.as_path->to_string() : std::string(),
                      std::to_string(p->weight)});
    }
  }
  return az_table(rows);
}

std::string az_table(const std::vector<AzRow>& body) {
  std::vector<AzRow> rows{{"LocPrf", "Network", "NextHop", "Path", "Weight"}};
  rows.insert(rows.end(), body.begin(), body.end());
  // The CLI pads every column to its widest cell and never below eight characters.
  std::array<size_t, 5> width{};
  for (const auto& r : rows)
    for (size_t c = 0; c < 5; ++c) width[c] = std::max({width[c], r[c].size(), size_t{8}});
  auto line = [&](const std::array<std::string, 5>& r) {
    std::string s;
    for (size_t c = 0; c < 5; ++c) {
      s += r[c];
      if (c + 1 < 5) s += std::string(width[c] - r[c].size() + 2, ' ');
    }
    return s + "\n";
  };
  std::string out = line(rows[0]);
  std::array<std::string, 5> dashes;
  for (size_t c = 0; c < 5; ++c) dashes[c] = std::string(width[c], '-');
  out += line(dashes);
  for (size_t i = 1; i < rows.size(); ++i) out += line(rows[i]);
  return out;
}

}  // namespace anycastd::lab
