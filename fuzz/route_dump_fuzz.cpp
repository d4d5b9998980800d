// libFuzzer target: a kernel route dump as libmnl walks it. Real kernels send well-formed
// messages; a parser of bytes from outside the process is fuzzed anyway, and malformed
// messages must be skipped, never read past.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fib/route_dump.hpp"

using namespace anycastd;
using namespace anycastd::fib;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // libmnl reads nlmsghdr fields in place: give it an aligned copy, as recvfrom would.
  std::vector<uint32_t> buf((size + 3) / 4);
  if (size) std::memcpy(buf.data(), data, size);
  FibConfig cfg;
  RouteDump d{&cfg, {}};
  parse_route_dump(buf.data(), size, d);
  for (const auto& p : d.prefixes)
    if (p.length() > (p.address().is_v4() ? 32 : 128)) abort();
  return 0;
}
