#pragma once
// The little of DNS (RFC 1035) a health check needs: one question out, the answer section
// back, rendered as text so that an expected answer can be compared.
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"

namespace anycastd::health::dns {

// Query types by mnemonic (A, AAAA, TXT, CNAME, MX, NS, SOA, PTR, SRV); nullopt if unknown.
std::optional<uint16_t> qtype_from_string(const std::string& s);
std::string qtype_to_string(uint16_t t);
// Response codes by mnemonic (NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED).
std::optional<uint8_t> rcode_from_string(const std::string& s);
std::string rcode_to_string(uint8_t r);

// A recursion-desired query for one name; empty if the name is not a valid domain name.
Bytes build_query(uint16_t id, const std::string& name, uint16_t qtype);

struct Response {
  uint16_t id = 0;
  uint8_t rcode = 0;
  bool truncated = false;
  std::string question;  // lower-case, no trailing dot
  uint16_t qtype = 0;
  // Records of the asked type in the answer section, as text: "1.1.1.1", "2001:db8::1",
  // a TXT record's strings concatenated, a target name.
  std::vector<std::string> answers;
};
// Nullopt if the bytes are not a well-formed DNS response.
std::optional<Response> parse_response(ByteView data);

}  // namespace anycastd::health::dns
