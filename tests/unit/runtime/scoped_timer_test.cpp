// A timer owned by what it acts on: it never runs after its owner is gone.
#include "runtime/scoped_timer.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "runtime/sim/sim_loop.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

TEST(ScopedTimer, DestroyedOwnerCancelsItsTimer) {
  sim::SimLoop loop;
  int runs = 0;
  {
    ScopedTimer t(loop);
    t.arm(1s, [&] { ++runs; });
    EXPECT_TRUE(t.armed());
  }
  loop.run_for(2s);
  EXPECT_EQ(runs, 0);
}

TEST(ScopedTimer, ArmReplacesAndCallbackMayReArm) {
  sim::SimLoop loop;
  ScopedTimer t(loop);
  int first = 0, ticks = 0;
  t.arm(1s, [&] { ++first; });
  std::function<void()> tick = [&] {
    EXPECT_FALSE(t.armed()) << "disarmed before the callback runs";
    if (++ticks < 3) t.arm(1s, tick);
  };
  t.arm(1s, tick);
  loop.run_for(10s);
  EXPECT_EQ(first, 0) << "the replaced callback must not run";
  EXPECT_EQ(ticks, 3);
  EXPECT_FALSE(t.armed());
}

TEST(ScopedTimer, CallbackMayDestroyItsOwner) {
  sim::SimLoop loop;
  struct Owner {
    explicit Owner(Loop& l) : t(l) {}
    ScopedTimer t;
  };
  auto owner = std::make_unique<Owner>(loop);
  bool ran = false;
  owner->t.arm(1s, [&] {
    owner.reset();
    ran = true;
  });
  loop.run_for(2s);
  EXPECT_TRUE(ran);
  EXPECT_EQ(owner, nullptr);
}
