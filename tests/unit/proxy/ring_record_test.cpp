// Ring records and the reuse of sockmap pairs: a record made for a connection that has left
// the pair must not act on the connection that took the pair next (a REPEAT record would
// have that connection leave out bytes it must forward).
#include "proxy/ring_record.hpp"

#include <gtest/gtest.h>

#include <optional>

using namespace anycastd::proxy;

namespace {

struct Kernel {
  uint32_t generation = 0;
};
struct Conn {
  bool dead = false;
  std::optional<Kernel> kernel;
};

forward_record repeat(uint32_t index, uint32_t generation) {
  forward_record r{};
  r.index = index;
  r.kind = FORWARD_REPEAT;
  r.at = 0;
  r.count = 100;
  r.generation = generation;
  return r;
}

}  // namespace

TEST(RingRecord, ARecordLeftFromTheLastConnectionOnAPairIsNotTheNextOnes) {
  Conn first{false, Kernel{1}};
  std::vector<Conn*> by_pair = {nullptr, &first};
  // Pair 1's directions are 2 and 3: a record of the connection holding it applies.
  EXPECT_EQ(ring_record_owner(by_pair, repeat(2, 1)), &first);
  EXPECT_EQ(ring_record_owner(by_pair, repeat(3, 1)), &first);
  // The connection leaves; the pair is free, then taken by the next one (generation 2),
  // while a repeat record of the first is still in the ring.
  by_pair[1] = nullptr;
  EXPECT_EQ(ring_record_owner(by_pair, repeat(3, 1)), nullptr);
  Conn next{false, Kernel{2}};
  by_pair[1] = &next;
  EXPECT_EQ(ring_record_owner(by_pair, repeat(3, 1)), nullptr)
      << "the first connection's repeat would cut 100 bytes from the next one's stream";
  EXPECT_EQ(ring_record_owner(by_pair, repeat(3, 2)), &next);
}

TEST(RingRecord, DeadOrOutOfRangeIsNobodys) {
  Conn dead{true, Kernel{1}};
  std::vector<Conn*> by_pair = {&dead};
  EXPECT_EQ(ring_record_owner(by_pair, repeat(0, 1)), nullptr);
  EXPECT_EQ(ring_record_owner(by_pair, repeat(9, 1)), nullptr);
  Conn user_space{false, std::nullopt};
  by_pair[0] = &user_space;
  EXPECT_EQ(ring_record_owner(by_pair, repeat(1, 0)), nullptr);
}
