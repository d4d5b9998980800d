#include "runtime/asio/asio_loop.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

using namespace anycastd;
using namespace std::chrono_literals;

TEST(AsioLoop, TimersRunInDueOrderAndTiesInTheOrderSet) {
  rt::AsioLoop loop;
  std::string order;
  loop.schedule(3ms, [&] { order += 'c'; });
  loop.schedule(1ms, [&] { order += 'a'; });
  loop.schedule(2ms, [&] { order += 'b'; });
  loop.post([&] { order += '0'; });
  loop.post([&] { order += '1'; });
  loop.schedule(4ms, [&] {
    order += 'd';
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(order, "01abcd");
}

TEST(AsioLoop, NoTimerRunsEarly) {
  rt::AsioLoop loop;
  TimePoint t0 = loop.now(), fired;
  loop.schedule(5ms, [&] {
    fired = loop.now();
    loop.stop();
  });
  loop.run();
  EXPECT_GE(fired - t0, 5ms);
}

TEST(AsioLoop, CancelledTimersNeverRunAndIdsAreNotReused) {
  rt::AsioLoop loop;
  int runs = 0;
  TimerId a = loop.schedule(1ms, [&] { ++runs; });
  TimerId p = loop.schedule(0ms, [&] { ++runs; });
  loop.cancel(a);
  loop.cancel(p);
  TimerId b = loop.schedule(2ms, [&] { ++runs; });
  EXPECT_NE(a, b) << "a freed slot came back under the old id";
  loop.cancel(a);  // stale: must not cancel b
  loop.cancel(0);
  loop.schedule(5ms, [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(runs, 1);
}

TEST(AsioLoop, ACallbackMayCancelOrScheduleOthers) {
  rt::AsioLoop loop;
  std::string order;
  TimerId later = 0;
  loop.schedule(1ms, [&] {
    order += 'a';
    loop.cancel(later);
    loop.schedule(1ms, [&] {
      order += 'c';
      loop.stop();
    });
  });
  later = loop.schedule(1ms, [&] { order += 'b'; });
  loop.run();
  EXPECT_EQ(order, "ac");
}

// Session hold timers are re-armed on every message: a million re-arms must not leave a
// million dead entries waiting out the hold time.
TEST(AsioLoop, ReArmingALongTimerKeepsTheHeapSmall) {
  rt::AsioLoop loop;
  TimerId hold = loop.schedule(180s, [] {});
  for (int i = 0; i < 100000; ++i) {
    loop.cancel(hold);
    hold = loop.schedule(180s, [] {});
  }
  EXPECT_LE(loop.heap_entries(), 5000u);
  bool ran = false;
  loop.schedule(1ms, [&] {
    ran = true;
    loop.stop();
  });
  loop.run();
  EXPECT_TRUE(ran);
}

// A callback's captures are destroyed when the loop goes, even if it never ran; one whose
// destructor cancels a timer must not touch a table being torn down.
TEST(AsioLoop, PendingCallbacksAreDestroyedWithTheLoop) {
  auto alive = std::make_shared<int>(0);
  {
    rt::AsioLoop loop;
    struct CancelOnDestroy {
      rt::AsioLoop* loop;
      TimerId id;
      ~CancelOnDestroy() { loop->cancel(id); }
    };
    TimerId other = loop.schedule(1h, [] {});
    auto c = std::shared_ptr<CancelOnDestroy>(new CancelOnDestroy{&loop, other});
    loop.schedule(1h, [alive, c] {});
  }
  EXPECT_EQ(alive.use_count(), 1);
}
