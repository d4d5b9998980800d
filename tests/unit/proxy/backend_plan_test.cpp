// A reload's plan for a running service's backends: each kind of change, and what must stay
// as it was (a backend's place, its runtime state and weight, the others untouched).
#include "proxy/backend_plan.hpp"

#include <gtest/gtest.h>

using namespace anycastd;
using namespace anycastd::proxy;
using namespace std::chrono_literals;

namespace {

BackendConfig be(const std::string& a, uint32_t weight = 1, std::vector<std::string> checks = {}) {
  return {{*IpAddress::parse(a), 80}, weight, std::move(checks)};
}

BackendSlots slots(std::vector<BackendConfig> bs) {
  BackendSlots s;
  for (auto& b : bs) {
    s.control.push_back({true, AdminState::ready, b.weight});
    s.configs.push_back(std::move(b));
  }
  return s;
}

const auto kNow = std::chrono::steady_clock::time_point{} + 1000s;

TEST(BackendPlan, NothingChangedTouchesNothing) {
  auto s = slots({be("10.0.0.1"), be("10.0.0.2", 3)});
  s.control[1].admin = AdminState::drain;
  s.control[1].weight = 7;
  auto before = s;
  auto c = plan_backends(s, {be("10.0.0.1"), be("10.0.0.2", 3)}, kNow, 10s, 256);
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->empty());
  ASSERT_EQ(s.configs.size(), 2u);
  EXPECT_EQ(s.control[1].admin, AdminState::drain) << "the operator's state survives";
  EXPECT_EQ(s.control[1].weight, 7u) << "and so does the runtime weight";
}

TEST(BackendPlan, AnAddedBackendTakesANewSlotAndWaitsForItsChecks) {
  auto s = slots({be("10.0.0.1")});
  auto c = plan_backends(s, {be("10.0.0.3", 2, {"web"}), be("10.0.0.1")}, kNow, 10s, 256);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->added, std::vector<std::string>{"10.0.0.3:80"});
  EXPECT_TRUE(c->removed.empty() && c->changed.empty());
  ASSERT_EQ(s.configs.size(), 2u);
  EXPECT_EQ(s.configs[0].endpoint.to_string(), "10.0.0.1:80") << "the old one keeps its place";
  EXPECT_EQ(s.configs[1].endpoint.to_string(), "10.0.0.3:80");
  EXPECT_FALSE(s.control[1].healthy) << "a backend with checks waits for them";
  EXPECT_EQ(s.control[1].weight, 2u);
}

TEST(BackendPlan, ARemovedBackendKeepsItsSlotAndDrainsForDrainTime) {
  auto s = slots({be("10.0.0.1"), be("10.0.0.2")});
  auto c = plan_backends(s, {be("10.0.0.2")}, kNow, 10s, 256);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->removed, std::vector<std::string>{"10.0.0.1:80"});
  ASSERT_EQ(s.configs.size(), 2u) << "its place is kept for the connections that hold it";
  EXPECT_TRUE(s.control[0].removed);
  EXPECT_EQ(s.control[0].close_before, kNow + 10s);
  EXPECT_FALSE(effective_view(s.configs[0], s.control[0]).healthy);
  EXPECT_FALSE(s.control[1].removed);
  // Removed once is removed: the next reload without it says nothing more.
  auto again = plan_backends(s, {be("10.0.0.2")}, kNow + 1s, 10s, 256);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(s.control[0].close_before, kNow + 10s);
}

TEST(BackendPlan, ABackendThatComesBackTakesItsOldSlotReady) {
  auto s = slots({be("10.0.0.1"), be("10.0.0.2")});
  s.control[0].admin = AdminState::maint;
  ASSERT_TRUE(plan_backends(s, {be("10.0.0.2")}, kNow, 10s, 256));
  auto c = plan_backends(s, {be("10.0.0.2"), be("10.0.0.1", 4)}, kNow + 1s, 10s, 256);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->added, std::vector<std::string>{"10.0.0.1:80"});
  ASSERT_EQ(s.configs.size(), 2u);
  EXPECT_FALSE(s.control[0].removed);
  EXPECT_EQ(s.control[0].admin, AdminState::ready);
  EXPECT_EQ(s.control[0].weight, 4u);
  EXPECT_EQ(s.control[0].close_before, std::chrono::steady_clock::time_point{})
      << "its new connections must not be closed at the old deadline";
}

TEST(BackendPlan, ANewConfiguredWeightReplacesTheRuntimeOneAndChecksChange) {
  auto s = slots({be("10.0.0.1", 1, {"a"}), be("10.0.0.2")});
  s.control[0].weight = 9;  // set at run time
  s.control[0].healthy = false;
  s.control[1].weight = 5;
  auto c = plan_backends(s, {be("10.0.0.1", 1), be("10.0.0.2", 2)}, kNow, 10s, 256);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->changed, (std::vector<std::string>{"10.0.0.1:80", "10.0.0.2:80"}));
  EXPECT_EQ(s.control[0].weight, 9u)
      << "the configured weight did not change: the runtime one stays";
  EXPECT_TRUE(s.control[0].healthy) << "without checks, a backend is up";
  EXPECT_EQ(s.control[1].weight, 2u) << "a new configured weight is the file's word";
}

TEST(BackendPlan, MoreSlotsThanTheCapacityChangeNothing) {
  auto s = slots({be("10.0.0.1"), be("10.0.0.2")});
  ASSERT_TRUE(plan_backends(s, {be("10.0.0.2")}, kNow, 10s, 3));
  auto before = s.configs.size();
  auto c = plan_backends(s, {be("10.0.0.2"), be("10.0.0.3"), be("10.0.0.4")}, kNow, 10s, 3);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("more than the 3"), std::string::npos) << c.error();
  EXPECT_EQ(s.configs.size(), before);
  EXPECT_TRUE(s.control[0].removed);
}

}  // namespace
