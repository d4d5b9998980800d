#include "bfd/packet.hpp"

namespace anycastd::bfd {
const char* to_string(State s) {
  switch (s) {
    case State::admin_down:
      return "AdminDown";
    case State::down:
      return "Down";
    case State::init:
      return "Init";
    case State::up:
      return "Up";
  }
  return "?";
}

const char* to_string(Diag d) {
  switch (d) {
    case Diag::none:
      return "none";
    case Diag::detection_expired:
      return "control detection time expired";
    case Diag::echo_failed:
      return "echo function failed";
    case Diag::neighbor_down:
      return "neighbor signaled session down";
    case Diag::forwarding_reset:
      return "forwarding plane reset";
    case Diag::path_down:
      return "path down";
    case Diag::concatenated_path_down:
      return "concatenated path down";
    case Diag::admin_down:
      return "administratively down";
    case Diag::reverse_concatenated_path_down:
      return "reverse concatenated path down";
  }
  return "unknown";
}

Bytes encode(const ControlPacket& p) {
  Bytes b;
  b.reserve(kPacketSize);
  ByteWriter w(b);
  w.u8(uint8_t(1 << 5 | (uint8_t(p.diag) & 0x1f)));
  uint8_t flags = uint8_t(uint8_t(p.state) << 6);
  if (p.poll) flags |= 0x20;
  if (p.final) flags |= 0x10;
  if (p.control_plane_independent) flags |= 0x08;
  if (p.authenticated) flags |= 0x04;
  if (p.demand) flags |= 0x02;
  w.u8(flags);
  w.u8(p.detect_mult);
  w.u8(kPacketSize);
  for (uint32_t v :
       {p.my_disc, p.your_disc, p.desired_min_tx, p.required_min_rx, p.required_min_echo_rx})
    w.u32(v);
  return b;
}

Result<ControlPacket, std::string> decode(ByteView d) {
  ByteReader r(d);
  uint8_t vers_diag = 0, flags = 0, length = 0;
  ControlPacket p;
  uint32_t* words[] = {&p.my_disc, &p.your_disc, &p.desired_min_tx, &p.required_min_rx,
                       &p.required_min_echo_rx};
  bool whole = r.u8(vers_diag) && r.u8(flags) && r.u8(p.detect_mult) && r.u8(length);
  for (auto* w : words) whole = whole && r.u32(*w);
  if (!whole) return Err(std::string("shorter than 24 bytes"));
  auto vers = vers_diag >> 5;
  if (vers != 1) return Err("version " + std::to_string(vers) + ", not 1");
  auto diag = vers_diag & 0x1f;
  p.diag = diag <= 8 ? Diag(diag) : Diag::none;
  p.state = State(flags >> 6);
  p.poll = flags & 0x20;
  p.final = flags & 0x10;
  p.control_plane_independent = flags & 0x08;
  p.authenticated = flags & 0x04;
  p.demand = flags & 0x02;
  bool multipoint = flags & 0x01;
  if (length < (p.authenticated ? kPacketSize + 2 : kPacketSize))
    return Err("length field " + std::to_string(length) + " is too small");
  if (length > d.size())
    return Err("length field " + std::to_string(length) + " exceeds the datagram (" +
               std::to_string(d.size()) + " bytes)");
  if (p.detect_mult == 0) return Err(std::string("detect multiplier is zero"));
  if (multipoint) return Err(std::string("multipoint bit set"));
  if (p.my_disc == 0) return Err(std::string("my discriminator is zero"));
  if (p.your_disc == 0 && p.state != State::down && p.state != State::admin_down)
    return Err(std::string("your discriminator is zero in state ") + to_string(p.state));
  if (p.authenticated) return Err(std::string("authenticated, and no authentication is set"));
  if (p.poll && p.final) return Err(std::string("poll and final both set"));
  return p;
}

}  // namespace anycastd::bfd
