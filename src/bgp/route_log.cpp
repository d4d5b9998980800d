#include "bgp/route_log.hpp"

namespace anycastd::bgp {

std::string describe(const Prefix& p, const PathAttributes& attrs, const IpAddress& next_hop) {
  std::string out = p.to_string() + " path [" +
                    (attrs.as_path ? attrs.as_path->to_string() : std::string()) + "] next-hop " +
                    next_hop.to_string();
  if (attrs.med) out += " med " + std::to_string(*attrs.med);
  if (attrs.local_pref) out += " local-pref " + std::to_string(*attrs.local_pref);
  if (!attrs.communities.empty()) {
    out += " communities [";
    for (size_t i = 0; i < attrs.communities.size(); ++i)
      out += (i ? " " : "") + community_to_string(attrs.communities[i]);
    out += "]";
  }
  if (!attrs.large_communities.empty()) {
    out += " large-communities [";
    for (size_t i = 0; i < attrs.large_communities.size(); ++i)
      out += (i ? " " : "") + large_community_to_string(attrs.large_communities[i]);
    out += "]";
  }
  return out;
}

}  // namespace anycastd::bgp
