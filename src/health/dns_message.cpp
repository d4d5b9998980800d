#include "health/dns_message.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/ip.hpp"

namespace anycastd::health::dns {
namespace {

struct Named {
  const char* name;
  uint16_t value;
};
constexpr std::array<Named, 9> kTypes{{{"A", 1},
                                       {"NS", 2},
                                       {"CNAME", 5},
                                       {"SOA", 6},
                                       {"PTR", 12},
                                       {"MX", 15},
                                       {"TXT", 16},
                                       {"AAAA", 28},
                                       {"SRV", 33}}};
constexpr std::array<Named, 6> kRcodes{{{"NOERROR", 0},
                                        {"FORMERR", 1},
                                        {"SERVFAIL", 2},
                                        {"NXDOMAIN", 3},
                                        {"NOTIMP", 4},
                                        {"REFUSED", 5}}};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

uint8_t at(ByteView d, size_t i) {
  return static_cast<uint8_t>(d[i]);
}

// Reads a possibly compressed name starting at `pos`; `pos` ends after the name as it
// appears in place. A pointer loop or a name longer than 255 bytes is malformed.
bool read_name(ByteView msg, size_t& pos, std::string& out) {
  out.clear();
  size_t p = pos;
  bool jumped = false;
  int hops = 0;
  size_t wire_len = 0;
  for (;;) {
    if (p >= msg.size()) return false;
    uint8_t len = at(msg, p);
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= msg.size() || ++hops > 16) return false;
      size_t target = ((len & 0x3F) << 8) | at(msg, p + 1);
      if (!jumped) pos = p + 2;
      jumped = true;
      p = target;
      continue;
    }
    if (len & 0xC0) return false;
    if (len == 0) {
      if (!jumped) pos = p + 1;
      return true;
    }
    if (p + 1 + len > msg.size() || (wire_len += len + 1) > 255) return false;
    if (!out.empty()) out += '.';
    for (size_t i = 0; i < len; ++i)
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(msg[p + 1 + i])));
    p += 1 + len;
  }
}

}  // namespace

std::optional<uint16_t> qtype_from_string(const std::string& s) {
  auto u = upper(s);
  for (const auto& t : kTypes)
    if (u == t.name) return t.value;
  return std::nullopt;
}

std::string qtype_to_string(uint16_t v) {
  for (const auto& t : kTypes)
    if (v == t.value) return t.name;
  return "TYPE" + std::to_string(v);
}

std::optional<uint8_t> rcode_from_string(const std::string& s) {
  auto u = upper(s);
  for (const auto& r : kRcodes)
    if (u == r.name) return static_cast<uint8_t>(r.value);
  return std::nullopt;
}

std::string rcode_to_string(uint8_t v) {
  for (const auto& r : kRcodes)
    if (v == r.value) return r.name;
  return "RCODE" + std::to_string(v);
}

Bytes build_query(uint16_t id, const std::string& name, uint16_t qtype) {
  Bytes out;
  ByteWriter w(out);
  w.u16(id);
  w.u16(0x0100);  // standard query, recursion desired
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  size_t total = 1;
  size_t start = 0;
  while (!n.empty()) {
    size_t dot = n.find('.', start);
    size_t end = dot == std::string::npos ? n.size() : dot;
    size_t len = end - start;
    if (len == 0 || len > 63 || (total += len + 1) > 255) return {};
    w.u8(static_cast<uint8_t>(len));
    for (size_t i = start; i < end; ++i) w.u8(static_cast<uint8_t>(n[i]));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  w.u8(0);
  w.u16(qtype);
  w.u16(1);  // IN
  return out;
}

std::optional<Response> parse_response(ByteView msg) {
  ByteReader r(msg);
  uint16_t id, flags, qd, an, ns, ar;
  if (!r.u16(id) || !r.u16(flags) || !r.u16(qd) || !r.u16(an) || !r.u16(ns) || !r.u16(ar))
    return std::nullopt;
  if (!(flags & 0x8000) || qd != 1) return std::nullopt;  // not a response to one question
  Response resp;
  resp.id = id;
  resp.rcode = flags & 0x0F;
  resp.truncated = flags & 0x0200;
  size_t pos = 12;
  if (!read_name(msg, pos, resp.question) || pos + 4 > msg.size()) return std::nullopt;
  resp.qtype = static_cast<uint16_t>((at(msg, pos) << 8) | at(msg, pos + 1));
  pos += 4;
  for (uint16_t i = 0; i < an; ++i) {
    std::string owner;
    if (!read_name(msg, pos, owner) || pos + 10 > msg.size()) return std::nullopt;
    uint16_t type = static_cast<uint16_t>((at(msg, pos) << 8) | at(msg, pos + 1));
    uint16_t rdlen = static_cast<uint16_t>((at(msg, pos + 8) << 8) | at(msg, pos + 9));
    pos += 10;
    if (pos + rdlen > msg.size()) return std::nullopt;
    size_t rd = pos;
    pos += rdlen;
    if (type != resp.qtype) continue;  // a CNAME chain's links
    if (type == 1 && rdlen == 4) {
      resp.answers.push_back(IpAddress::v4((uint32_t{at(msg, rd)} << 24) |
                                           (uint32_t{at(msg, rd + 1)} << 16) |
                                           (uint32_t{at(msg, rd + 2)} << 8) | at(msg, rd + 3))
                                 .to_string());
    } else if (type == 28 && rdlen == 16) {
      std::array<uint8_t, 16> raw;
      for (size_t k = 0; k < 16; ++k) raw[k] = at(msg, rd + k);
      resp.answers.push_back(IpAddress::v6(raw).to_string());
    } else if (type == 16) {
      std::string text;
      for (size_t k = rd; k < rd + rdlen;) {
        size_t len = at(msg, k);
        if (k + 1 + len > rd + rdlen) return std::nullopt;
        text.append(reinterpret_cast<const char*>(msg.data()) + k + 1, len);
        k += 1 + len;
      }
      resp.answers.push_back(std::move(text));
    } else if (type == 2 || type == 5 || type == 12) {
      std::string target;
      size_t p = rd;
      if (!read_name(msg, p, target)) return std::nullopt;
      resp.answers.push_back(std::move(target));
    } else {
      resp.answers.push_back("(" + std::to_string(rdlen) + " bytes)");
    }
  }
  return resp;
}

}  // namespace anycastd::health::dns
