#include "lab/route_table.hpp"

#include "lab/table_build.hpp"

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
  DeviceTable t;
  t.format = "az-route-table";
  t.rows = msee_rows(rib_routes(rib));
  return t.text();
}

}  // namespace anycastd::lab
