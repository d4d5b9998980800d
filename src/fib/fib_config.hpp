#pragma once
// Where Loc-RIB best paths go in the kernel (`fib:` in the config file).
#include <cstdint>

namespace anycastd::fib {

struct FibConfig {
  bool kernel = false;   // off by default: anycastd announces, it does not forward
  uint32_t table = 254;  // main
  // Our routes are found (and purged after a crash) by this number, so it must not be one
  // another daemon on the host uses: BIRD 12, Zebra/FRR 11 and 186-188, GoBGP none.
  uint8_t protocol = 198;
  uint32_t metric = 20;
};

}  // namespace anycastd::fib
