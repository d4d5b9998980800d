#include "fib/fib_sync.hpp"

#include <gtest/gtest.h>

#include "rib/rib_test_util.hpp"

using namespace anycastd;
using namespace anycastd::rib;
using namespace anycastd::rib::test;

namespace {

struct Recorder : fib::FibWriter {
  std::vector<std::string> ops;
  std::string fail_next;
  std::string install(const fib::KernelRoute& r) override {
    std::string s = "add " + r.prefix.to_string() + " via";
    for (const auto& nh : r.next_hops) s += " " + nh.to_string();
    ops.push_back(s);
    return std::exchange(fail_next, "");
  }
  std::string remove(const Prefix& p) override {
    ops.push_back("del " + p.to_string());
    return {};
  }
};

struct Fib : ::testing::Test {
  policy::Policy accept = policy::accept_all();
  Recorder w;
  fib::FibSync sync{w};
  std::unique_ptr<Rib> rib_;
  Rib* r = nullptr;
  PeerId a = 0, b = 0;

  void make(uint32_t multipath) {
    DecisionConfig d;
    d.multipath = multipath;
    rib_ = std::make_unique<Rib>(RibConfig{65010, 1, d});
    Rib& rib = *rib_;
    r = rib_.get();
    a = rib.add_peer({A("198.18.0.4"), 65515, &accept, &accept});
    b = rib.add_peer({A("198.18.0.5"), 65515, &accept, &accept});
    rib.peer_up(a, 4, A("198.18.0.1"), std::nullopt, true, false);
    rib.peer_up(b, 5, A("198.18.0.1"), std::nullopt, true, false);
    rib.on_change = [this](const Prefix& p, const Entry* e) { sync.on_change(p, e); };
  }
};

}  // namespace

TEST_F(Fib, BestPathInstalledReplacedAndRemovedWithTheRib) {
  make(1);
  Rib& rib = *r;
  rib.announce(a, P("198.19.1.0/24"), attrs({65515, 65001}, "198.18.0.10"));
  rib.announce(b, P("198.19.1.0/24"), attrs({65515}, "198.18.0.11"));  // shorter: wins
  rib.withdraw(b, P("198.19.1.0/24"));
  rib.withdraw(a, P("198.19.1.0/24"));
  EXPECT_EQ(w.ops, (std::vector<std::string>{
                       "add 198.19.1.0/24 via 198.18.0.10", "add 198.19.1.0/24 via 198.18.0.11",
                       "add 198.19.1.0/24 via 198.18.0.10", "del 198.19.1.0/24"}));
  EXPECT_EQ(sync.installed(), 0u);
}

TEST_F(Fib, EqualPathsBecomeOneMultipathRoute) {
  make(2);
  Rib& rib = *r;
  rib.announce(a, P("198.19.2.0/24"), attrs({65515}, "198.18.0.11"));
  rib.announce(b, P("198.19.2.0/24"), attrs({65515}, "198.18.0.10"));
  ASSERT_EQ(sync.installed(), 1u);
  EXPECT_EQ(w.ops.back(), "add 198.19.2.0/24 via 198.18.0.10 198.18.0.11");
  rib.peer_down(b);
  EXPECT_EQ(w.ops.back(), "add 198.19.2.0/24 via 198.18.0.11");
}

TEST_F(Fib, LocallyOriginatedVipsAreNotInstalled) {
  make(1);
  Rib& rib = *r;
  rib.originate(P("198.18.100.1/32"), attrs({}, "198.18.0.1"));
  EXPECT_TRUE(w.ops.empty());
}

TEST_F(Fib, AnAttributeChangeThatKeepsTheNextHopWritesNothing) {
  make(1);
  Rib& rib = *r;
  rib.announce(a, P("198.19.3.0/24"), attrs({65515, 1}, "198.18.0.10"));
  rib.announce(a, P("198.19.3.0/24"), attrs({65515, 2}, "198.18.0.10"));
  EXPECT_EQ(w.ops.size(), 1u);
}

TEST_F(Fib, AFailedInstallIsReportedAndRetriedOnTheNextChange) {
  make(1);
  Rib& rib = *r;
  std::vector<std::string> errors;
  sync.on_error = [&](const std::string& e) { errors.push_back(e); };
  w.fail_next = "Network is unreachable";
  rib.announce(a, P("198.19.4.0/24"), attrs({65515}, "203.0.113.1"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "kernel route install 198.19.4.0/24: Network is unreachable");
  EXPECT_EQ(sync.installed(), 0u);
  rib.announce(a, P("198.19.4.0/24"), attrs({65515, 7}, "203.0.113.1"));
  EXPECT_EQ(sync.installed(), 1u);
  sync.clear();
  EXPECT_EQ(w.ops.back(), "del 198.19.4.0/24");
}
