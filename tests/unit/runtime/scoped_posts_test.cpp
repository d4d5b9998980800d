// Posted work owned by what it acts on: destroyed with its owner, on either loop, and safe
// when the callback itself destroys the owner. Under ASan a callback that outlived its
// owner is a use after free.
#include "runtime/scoped_posts.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "core/internal_error.hpp"
#include "runtime/asio/asio_loop.hpp"
#include "runtime/sim/sim_loop.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

namespace {

struct Owner {
  explicit Owner(Loop& l) : posts(l) {}
  int runs = 0;
  ScopedPosts posts;
};

}  // namespace

TEST(ScopedPosts, DestroyedOwnerCancelsWhatItPosted) {
  sim::SimLoop loop;
  int ran = 0;
  {
    auto o = std::make_unique<Owner>(loop);
    o->posts.post([&ran, p = o.get()] { ++p->runs, ++ran; });
    o->posts.post([&ran, p = o.get()] { ++p->runs, ++ran; }, 1s);
    EXPECT_EQ(o->posts.pending(), 2u);
  }
  loop.run_for(2s);
  EXPECT_EQ(ran, 0);
}

TEST(ScopedPosts, RunsInOrderAndForgetsWhatRan) {
  sim::SimLoop loop;
  Owner o(loop);
  std::vector<int> order;
  o.posts.post([&] { order.push_back(1); });
  o.posts.post([&] { order.push_back(3); }, 1s);
  o.posts.post([&] { order.push_back(2); });
  loop.run_for(2s);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(o.posts.pending(), 0u);
}

TEST(ScopedPosts, ACallbackMayDestroyItsOwner) {
  sim::SimLoop loop;
  auto o = std::make_unique<Owner>(loop);
  int later = 0;
  o->posts.post([&] { o.reset(); });
  o->posts.post([&] { ++later; });  // cancelled by the first one's reset
  loop.run_for(1s);
  EXPECT_EQ(o, nullptr);
  EXPECT_EQ(later, 0);
}

TEST(ScopedPosts, OnTheRealLoopToo) {
  rt::AsioLoop loop;
  int ran = 0;
  {
    Owner o(loop);
    o.posts.post([&] { ++ran; });
  }
  Owner kept(loop);
  kept.posts.post([&] {
    ++ran;
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(ran, 1);
}

// A handler that throws is reported and the loop turns on: the next one still runs.
TEST(AsioLoopLastResort, AThrowingCallbackIsCountedAndTheLoopGoesOn) {
  rt::AsioLoop loop;
  const auto before = internal_errors();
  bool after = false;
  loop.post([] { throw std::runtime_error("boom"); });
  loop.post([&] {
    after = true;
    loop.stop();
  });
  loop.run();
  EXPECT_TRUE(after);
  EXPECT_EQ(internal_errors(), before + 1);
}
