#include "rib/huge_allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using anycastd::rib::HugeAllocator;

namespace {

// The VmFlags line of the mapping that holds `p` ("hg" means MADV_HUGEPAGE was given).
std::string vm_flags_of(const void* p) {
  auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
      inside = lo <= at && at < hi;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

}  // namespace

// A full table's index (16 MiB) must be asked for huge pages; small arrays stay on the
// heap; both hold what was written.
TEST(HugeAllocator, BigArraysAreMappedForHugePagesAndSmallOnesAreNot) {
  std::vector<uint64_t, HugeAllocator<uint64_t>> big(2u << 20, 7);  // 16 MiB
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = i;
  for (size_t i = 0; i < big.size(); i += 4096) ASSERT_EQ(big[i], i);
  EXPECT_EQ(big[1], 7u);
  EXPECT_NE(vm_flags_of(big.data()).find(" hg"), std::string::npos) << vm_flags_of(big.data());

  std::vector<uint64_t, HugeAllocator<uint64_t>> small(1000, 3);
  EXPECT_EQ(vm_flags_of(small.data()).find(" hg"), std::string::npos);
  EXPECT_EQ(small[999], 3u);
  big.resize(4u << 20, 9);  // grows into a new mapping and frees the old one
  EXPECT_EQ(big[(4u << 20) - 1], 9u);
  EXPECT_EQ(big[4096], 4096u);
}
