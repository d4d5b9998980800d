#pragma once
// What the lab's unit tests share: the examples loaded by name, and the emulated routers'
// daemon logs silenced (the tests read the timeline instead).
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <string>

#include "lab/topology.hpp"

namespace anycastd::lab::testing {

inline const bool quiet = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

inline Topology load(const std::string& name) {
  auto t = load_topology(std::string(ANYCASTD_SOURCE_DIR) + "/examples/lab/" + name);
  EXPECT_TRUE(t) << (t ? "" : t.error().to_string());
  return *t;
}

}  // namespace anycastd::lab::testing
