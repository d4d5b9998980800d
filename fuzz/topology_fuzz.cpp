// libFuzzer target: a lab topology file. A topology or a ConfigError naming the file,
// never a crash or an exception.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lab/topology.hpp"

using namespace anycastd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto t = lab::load_topology_string(text, "fuzz.yaml");
  if (!t && (t.error().file != "fuzz.yaml" || t.error().message.empty())) abort();
  return 0;
}
