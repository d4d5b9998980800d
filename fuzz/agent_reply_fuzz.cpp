// libFuzzer target: an agent check's answer (HAProxy's agent-check protocol), through the
// parser the agent probe calls. Any bytes give a reply or a reason; a reply describes
// itself in words that parse back to the same reply.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "health/agent_reply.hpp"

using namespace anycastd::health;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = parse_agent_reply(text);
  if (!r) {
    if (r.error().empty()) abort();
    return 0;
  }
  if (r->weight_percent && *r->weight_percent > 25600) abort();
  auto again = parse_agent_reply(describe(*r));
  if (!again) abort();
  // The words round-trip; the reason after '#' may lose leading blanks, nothing more.
  AgentReply a = *r, b = *again;
  a.why.clear();
  b.why.clear();
  if (!(a == b)) abort();
  return 0;
}
