#pragma once
// HAProxy's agent-check protocol, the answer side: the backend's agent writes one line of
// words (separated by spaces, tabs or commas, any case) and closes. The words a backend may
// say about itself: its admin state (ready, drain, maint), a weight as a share of the
// configured one ("75%"), whether it is up ("up", or "down", "fail", "stopped", optionally
// followed by a reason after '#'), and "maxconn:N". Pure: the probe reads the line, the
// health link applies it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace anycastd::health {

enum class AgentAdmin : uint8_t { ready, drain, maint };

struct AgentReply {
  std::optional<bool> up;
  std::string why;  // after '#': the agent's reason
  std::optional<AgentAdmin> admin;
  std::optional<uint32_t> weight_percent;
  std::optional<uint32_t> maxconn;  // read and shown; anycastd has no per-backend limit
  bool operator==(const AgentReply&) const = default;
};

inline constexpr size_t kMaxAgentReply = 1024;

// The reply in `text` up to its first line end, or why it is not one (an empty answer, an
// unknown word, a percentage or number that is not one).
Result<AgentReply, std::string> parse_agent_reply(std::string_view text);

// "drain 75%", for the log and show health.
std::string describe(const AgentReply& r);

}  // namespace anycastd::health
