#include "bfd/packet.hpp"

namespace anycastd::bfd {
namespace {

void put32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::byte(v >> s));
}
uint32_t get32(ByteView d, size_t at) {
  return uint32_t(d[at]) << 24 | uint32_t(d[at + 1]) << 16 | uint32_t(d[at + 2]) << 8 |
         uint32_t(d[at + 3]);
}

}  // namespace

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
  b.push_back(std::byte(1 << 5 | (uint8_t(p.diag) & 0x1f)));
  uint8_t flags = uint8_t(uint8_t(p.state) << 6);
  if (p.poll) flags |= 0x20;
  if (p.final) flags |= 0x10;
  if (p.control_plane_independent) flags |= 0x08;
  if (p.authenticated) flags |= 0x04;
  if (p.demand) flags |= 0x02;
  b.push_back(std::byte(flags));
  b.push_back(std::byte(p.detect_mult));
  b.push_back(std::byte(kPacketSize));
  put32(b, p.my_disc);
  put32(b, p.your_disc);
  put32(b, p.desired_min_tx);
  put32(b, p.required_min_rx);
  put32(b, p.required_min_echo_rx);
  return b;
}

Result<ControlPacket, std::string> decode(ByteView d) {
  if (d.size() < kPacketSize) return Err(std::string("shorter than 24 bytes"));
  auto vers = uint8_t(d[0]) >> 5;
  if (vers != 1) return Err("version " + std::to_string(vers) + ", not 1");
  ControlPacket p;
  auto diag = uint8_t(d[0]) & 0x1f;
  p.diag = diag <= 8 ? Diag(diag) : Diag::none;
  auto flags = uint8_t(d[1]);
  p.state = State(flags >> 6);
  p.poll = flags & 0x20;
  p.final = flags & 0x10;
  p.control_plane_independent = flags & 0x08;
  p.authenticated = flags & 0x04;
  p.demand = flags & 0x02;
  bool multipoint = flags & 0x01;
  p.detect_mult = uint8_t(d[2]);
  size_t length = uint8_t(d[3]);
  if (length < (p.authenticated ? kPacketSize + 2 : kPacketSize))
    return Err("length field " + std::to_string(length) + " is too small");
  if (length > d.size())
    return Err("length field " + std::to_string(length) + " exceeds the datagram (" +
               std::to_string(d.size()) + " bytes)");
  if (p.detect_mult == 0) return Err(std::string("detect multiplier is zero"));
  if (multipoint) return Err(std::string("multipoint bit set"));
  p.my_disc = get32(d, 4);
  p.your_disc = get32(d, 8);
  if (p.my_disc == 0) return Err(std::string("my discriminator is zero"));
  if (p.your_disc == 0 && p.state != State::down && p.state != State::admin_down)
    return Err(std::string("your discriminator is zero in state ") + to_string(p.state));
  if (p.authenticated) return Err(std::string("authenticated, and no authentication is set"));
  if (p.poll && p.final) return Err(std::string("poll and final both set"));
  p.desired_min_tx = get32(d, 12);
  p.required_min_rx = get32(d, 16);
  p.required_min_echo_rx = get32(d, 20);
  return p;
}

}  // namespace anycastd::bfd
