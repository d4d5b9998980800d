// libFuzzer target: a health check's DNS answer, from a resolver we do not control. Any
// bytes give a response or nullopt; a parsed one holds only what the bytes said.
#include <cstdint>
#include <cstdlib>

#include "health/dns_message.hpp"

using namespace anycastd;
using namespace anycastd::health;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(reinterpret_cast<const std::byte*>(data), size);
  auto r = dns::parse_response(in);
  if (!r) return 0;
  // A name is at most 255 octets on the wire (RFC 1035 §2.3.4); pointer loops must not
  // build a longer one.
  if (r->question.size() > 255) abort();
  for (const auto& a : r->answers)
    if (a.size() > size * 4 + 64) abort();  // text renders at most ~4 chars per octet
  // The query we would send for the same question parses as a question, not a response.
  if (!r->question.empty()) {
    auto q = dns::build_query(r->id, r->question, r->qtype);
    if (!q.empty() && dns::parse_response(q)) abort();
  }
  return 0;
}
