#include "core/internal_error.hpp"

#include <atomic>
#include <cstdio>

namespace anycastd {

namespace {

std::atomic<uint64_t> g_count{0};

void to_stderr(std::string_view what, std::string_view why) {
  std::fprintf(stderr, "internal error handling %.*s: %.*s\n", int(what.size()), what.data(),
               int(why.size()), why.data());
}

std::atomic<InternalErrorLog> g_log{&to_stderr};

}  // namespace

void report_internal_error(std::string_view what, std::string_view why) noexcept {
  g_count.fetch_add(1, std::memory_order_relaxed);
  // A logger that throws (a full disk under spdlog) must not turn the report into the crash.
  try {
    g_log.load()(what, why);
  } catch (...) {
  }
}

uint64_t internal_errors() noexcept {
  return g_count.load(std::memory_order_relaxed);
}

void set_internal_error_log(InternalErrorLog log) noexcept {
  g_log.store(log ? log : &to_stderr);
}

}  // namespace anycastd
