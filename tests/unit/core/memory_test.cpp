#include "core/memory.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

[[maybe_unused]] long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

// What a full table's transient data leaves behind: many small blocks freed between
// long-lived ones, so the heap cannot shrink from its top. Releasing must give those
// pages back.
TEST(Memory, FreedSmallBlocksBetweenLiveOnesGoBackToTheSystem) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan has its own allocator";
#else
  std::vector<std::unique_ptr<char[]> > transient, kept;
  for (int i = 0; i < 64 * 1024; ++i) {
    transient.emplace_back(new char[1000]);
    std::fill_n(transient.back().get(), 1000, char(i));
    if (i % 16 == 0) kept.emplace_back(new char[16]);  // pins the heap every 16 KB
  }
  transient.clear();
  long before = rss_kib();
  anycastd::release_free_memory();
  long after = rss_kib();
  EXPECT_LT(after, before - 32 * 1024) << "RSS " << before << " KiB -> " << after << " KiB";
#endif
}
