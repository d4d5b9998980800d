// libFuzzer target: HAProxy's `show stat` CSV from its admin socket. Whatever it says, the
// status is a piece of one line of it, or nothing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "health/haproxy_stat.hpp"

using namespace anycastd::health;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view csv(reinterpret_cast<const char*>(data), size);
  for (auto [px, sv] :
       {std::pair{"web", "weu-1"}, std::pair{"web", "BACKEND"}, std::pair{"", ""}}) {
    auto st = haproxy_status(csv, px, sv);
    if (!st) continue;
    if (st->size() > size || st->find('\n') != std::string::npos) abort();
    (void)haproxy_status_up(*st);
  }
  return 0;
}
