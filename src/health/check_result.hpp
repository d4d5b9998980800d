#pragma once
// What one health check found: success, or why not (kept and shown to the operator).
#include <optional>
#include <string>

#include "health/agent_reply.hpp"

#include "core/time.hpp"

namespace anycastd::health {

enum class Failure { none, refused, timeout, reset, wrong_status, wrong_answer, exit_code, error };

std::string to_string(Failure f);

struct CheckResult {
  bool ok = false;
  Failure failure = Failure::none;
  std::string detail;  // "status 503", "exit code 2", the socket error text
  Duration latency{};
  // An agent check's answer: what the backend said of its own admin state and weight,
  // applied by the health link whatever the verdict.
  std::optional<AgentReply> agent;

  static CheckResult success(Duration latency) { return {true, Failure::none, {}, latency, {}}; }
  static CheckResult fail(Failure f, std::string detail, Duration latency = {}) {
    return {false, f, std::move(detail), latency, {}};
  }
  std::string describe() const;  // "ok", "timeout", "wrong status: status 503"
};

}  // namespace anycastd::health
