#pragma once
#include <initializer_list>

#include "rib/rib.hpp"
#include "wire/test_util.hpp"

namespace anycastd::rib::test {

using bgp::test::A;
using bgp::test::P;

inline bgp::AsPath path(std::initializer_list<uint32_t> asns) {
  bgp::AsPath p;
  if (asns.size()) p.segments.push_back({bgp::kAsSequence, asns});
  return p;
}

inline bgp::PathAttributes attrs(std::initializer_list<uint32_t> asns,
                                 const std::string& next_hop) {
  bgp::PathAttributes a;
  a.origin = bgp::kOriginIgp;
  a.as_path = path(asns);
  a.next_hop = A(next_hop);
  return a;
}

}  // namespace anycastd::rib::test
