// libFuzzer target: `anycastd --check-config` on any file. The answer is a configuration
// or a ConfigError naming the file -- never a crash or an exception -- and a configuration
// printed with defaults reads back to the same one.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.hpp"

using namespace anycastd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = config::load_string(text, "fuzz.yaml");
  if (!c) {
    if (c.error().file != "fuzz.yaml" || c.error().message.empty()) abort();
    return 0;
  }
  std::string printed = config::print(*c);
  auto again = config::load_string(printed, "printed.yaml");
  if (!again) abort();
  if (config::print(*again) != printed) abort();
  return 0;
}
