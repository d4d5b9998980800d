// libFuzzer target: any bytes through the framing and decoder, under both 2- and 4-octet
// AS options. Whatever decodes must re-encode and decode again (to the same message on
// 4-octet sessions).
#include <cstdint>
#include <cstdlib>

#include "wire/codec.hpp"

using namespace anycastd;
using namespace anycastd::bgp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(reinterpret_cast<const std::byte*>(data), size);
  for (int variant = 0; variant < 3; ++variant) {
    const bool four = variant != 1;
    CodecOptions o{four, size > 4096};
    o.external_peer = variant == 2;  // an eBGP session drops LOCAL_PREF on the way in
    auto len = frame_length(in, o);
    if (!len || !*len || **len > size) continue;
    auto m = decode(in.first(**len), o);
    if (!m) continue;
    // Treat-as-withdraw updates lose their bad attributes, so they do not round-trip.
    // So do updates whose LOCAL_PREF an eBGP session dropped.
    if (auto* u = std::get_if<Update>(&m.value());
        u && (!u->diagnostics.empty() || u->ignored_local_pref))
      continue;
    auto again = decode(encode(m.value(), o), o);
    if (!again) abort();
    // With a 2-octet peer the path is rebuilt from AS_PATH + AS4_PATH (RFC 6793 §4.2.3),
    // which cannot carry confederation segments, so only 4-octet sessions must round-trip
    // exactly; 2-octet ones must still re-decode.
    if (four && !(again.value() == m.value())) abort();
  }
  return 0;
}
