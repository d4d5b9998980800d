// libFuzzer target: BFD Control packets from the network, decoded and fed to a session.
// Any bytes decode or give a reason; what decodes encodes back to itself; no sequence of
// packets and timer runs leaves the session in a state RFC 5880 does not have or with
// timers that never stop.
#include <cstdint>
#include <cstdlib>

#include "bfd/session.hpp"
#include "runtime/sim/sim_loop.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sim::SimLoop loop;
  bfd::Session s(
      loop, 1, {},
      [](Bytes b) {
        if (!bfd::decode(b)) abort();  // what we send is always a valid packet
      },
      nullptr);
  // The input is a run of 25-byte records: one byte of time to let pass, then a packet.
  for (size_t at = 0; at + 1 <= size; at += 25) {
    loop.run_for(std::chrono::milliseconds(data[at]) * 10);
    ByteView in(reinterpret_cast<const std::byte*>(data + at + 1),
                std::min<size_t>(24, size - at - 1));
    auto p = bfd::decode(in);
    if (!p) continue;
    auto again = bfd::decode(bfd::encode(*p));
    if (!again || !(*again == *p)) abort();
    s.receive(*p);
    if (uint8_t(s.info().state) > 3) abort();
  }
  // Silence for longer than the detection time brings any session down. (A neighbour may
  // ask for a detection time of days; those are left running.)
  if (s.info().detection_time > 1h) return 0;
  loop.run_for(s.info().detection_time + 1ms);
  if (s.info().state == bfd::State::up || s.info().state == bfd::State::init) abort();
  return 0;
}
