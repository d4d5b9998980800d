#include <algorithm>

#include "wire/message.hpp"

namespace anycastd::bgp {

bool Capabilities::supports(AfiSafi f) const {
  return std::find(multiprotocol.begin(), multiprotocol.end(), f) != multiprotocol.end();
}

size_t AsPath::length() const {
  size_t n = 0;
  for (const auto& s : segments) {
    if (s.type == kAsSequence) n += s.asns.size();
    if (s.type == kAsSet) n += 1;
  }
  return n;
}

bool AsPath::contains(uint32_t asn) const {
  for (const auto& s : segments)
    if (std::find(s.asns.begin(), s.asns.end(), asn) != s.asns.end()) return true;
  return false;
}

std::optional<uint32_t> AsPath::first_asn() const {
  for (const auto& s : segments)
    if (s.type == kAsSequence && !s.asns.empty()) return s.asns.front();
  return std::nullopt;
}

std::optional<uint32_t> AsPath::origin_asn() const {
  if (segments.empty() || segments.back().type != kAsSequence || segments.back().asns.empty())
    return std::nullopt;
  return segments.back().asns.back();
}

void AsPath::prepend(uint32_t asn, size_t times) {
  if (times == 0) return;
  // A SEQUENCE holds at most 255 ASNs; start a new one when the first is full or not one.
  for (size_t i = 0; i < times; ++i) {
    if (segments.empty() || segments.front().type != kAsSequence ||
        segments.front().asns.size() >= 255) {
      segments.insert(segments.begin(), AsSegment{kAsSequence, {}});
    }
    auto& a = segments.front().asns;
    a.insert(a.begin(), asn);
  }
}

std::string AsPath::to_string() const {
  std::string out;
  for (const auto& s : segments) {
    bool set = s.type == kAsSet || s.type == kAsConfedSet;
    bool confed = s.type == kAsConfedSequence || s.type == kAsConfedSet;
    if (!out.empty()) out += ' ';
    if (confed) out += '(';
    if (set) out += '{';
    for (size_t i = 0; i < s.asns.size(); ++i) {
      if (i) out += set ? "," : " ";
      out += std::to_string(s.asns[i]);
    }
    if (set) out += '}';
    if (confed) out += ')';
  }
  return out;
}

std::optional<AfiSafi> Update::end_of_rib() const {
  if (!withdrawn.empty() || !nlri.empty() || mp_reach) return std::nullopt;
  if (mp_unreach) {
    if (mp_unreach->withdrawn.empty() && attrs == PathAttributes{}) return mp_unreach->afi_safi;
    return std::nullopt;
  }
  if (attrs == PathAttributes{}) return AfiSafi{kAfiIpv4, kSafiUnicast};
  return std::nullopt;
}

std::vector<Prefix> Update::announced() const {
  std::vector<Prefix> out = nlri;
  if (mp_reach) out.insert(out.end(), mp_reach->nlri.begin(), mp_reach->nlri.end());
  return out;
}

std::vector<Prefix> Update::withdrawn_all() const {
  std::vector<Prefix> out = withdrawn;
  if (mp_unreach) out.insert(out.end(), mp_unreach->withdrawn.begin(), mp_unreach->withdrawn.end());
  if (treat_as_withdraw) {
    auto a = announced();
    out.insert(out.end(), a.begin(), a.end());
  }
  return out;
}

std::string community_to_string(uint32_t c) {
  return std::to_string(c >> 16) + ":" + std::to_string(c & 0xFFFF);
}

std::string large_community_to_string(const LargeCommunity& c) {
  return std::to_string(c.global) + ":" + std::to_string(c.local1) + ":" + std::to_string(c.local2);
}

std::string Notification::to_string() const {
  static const char* codes[] = {"Unknown",
                                "Message Header Error",
                                "OPEN Message Error",
                                "UPDATE Message Error",
                                "Hold Timer Expired",
                                "Finite State Machine Error",
                                "Cease",
                                "ROUTE-REFRESH Message Error"};
  static const char* cease[] = {"",
                                "Maximum Number of Prefixes Reached",
                                "Administrative Shutdown",
                                "Peer De-configured",
                                "Administrative Reset",
                                "Connection Rejected",
                                "Other Configuration Change",
                                "Connection Collision Resolution",
                                "Out of Resources"};
  std::string out = code < 8 ? codes[code] : "Unknown";
  if (code == err::kCease && subcode >= 1 && subcode <= 8) {
    out += std::string("/") + cease[subcode];
  } else {
    out += "/" + std::to_string(subcode);
  }
  return out;
}

}  // namespace anycastd::bgp
