#include "health/agent_reply.hpp"

#include <algorithm>
#include <cctype>

namespace anycastd::health {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Digits only, at most `limit`.
std::optional<uint32_t> number(std::string_view s, uint32_t limit) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > limit) return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

Result<AgentReply, std::string> parse_agent_reply(std::string_view text) {
  auto line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  AgentReply r;
  if (auto hash = line.find('#'); hash != std::string_view::npos) {
    auto why = line.substr(hash + 1);
    while (!why.empty() && (why.front() == ' ' || why.front() == '\t')) why.remove_prefix(1);
    r.why = std::string(why);
    line = line.substr(0, hash);
  }
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
      return Err(std::string("a control character"));
  bool any = false;
  size_t at = 0;
  while (at < line.size()) {
    auto end = line.find_first_of(" \t,", at);
    if (end == std::string_view::npos) end = line.size();
    auto word = lower(line.substr(at, end - at));
    at = end + 1;
    if (word.empty()) continue;
    any = true;
    if (word == "up") {
      r.up = true;
    } else if (word == "down" || word == "fail" || word == "stopped") {
      r.up = false;
    } else if (word == "ready") {
      r.admin = AgentAdmin::ready;
    } else if (word == "drain") {
      r.admin = AgentAdmin::drain;
    } else if (word == "maint") {
      r.admin = AgentAdmin::maint;
    } else if (word.back() == '%') {
      // HAProxy caps the resulting weight at 256; a share above 100% is allowed.
      auto p = number(std::string_view(word).substr(0, word.size() - 1), 25600);
      if (!p) return Err("'" + word + "' is not a percentage");
      r.weight_percent = *p;
    } else if (word.rfind("maxconn:", 0) == 0) {
      auto m = number(std::string_view(word).substr(8), 1u << 30);
      if (!m) return Err("'" + word + "' is not maxconn:N");
      r.maxconn = *m;
    } else {
      return Err("unknown word '" + word.substr(0, 40) + "'");
    }
  }
  if (!any) return Err(std::string("no word in the answer"));
  return r;
}

std::string describe(const AgentReply& r) {
  std::string out;
  auto add = [&](const std::string& w) { out += (out.empty() ? "" : " ") + w; };
  if (r.up) add(*r.up ? "up" : "down");
  if (r.admin)
    add(*r.admin == AgentAdmin::ready   ? "ready"
        : *r.admin == AgentAdmin::drain ? "drain"
                                        : "maint");
  if (r.weight_percent) add(std::to_string(*r.weight_percent) + "%");
  if (r.maxconn) add("maxconn:" + std::to_string(*r.maxconn));
  if (!r.why.empty()) add("#" + r.why);
  return out;
}

}  // namespace anycastd::health
