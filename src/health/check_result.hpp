#pragma once
// What one health check found: success, or why not (kept and shown to the operator).
#include <string>

#include "core/time.hpp"

namespace anycastd::health {

enum class Failure { none, refused, timeout, reset, wrong_status, wrong_answer, exit_code, error };

std::string to_string(Failure f);

struct CheckResult {
  bool ok = false;
  Failure failure = Failure::none;
  std::string detail;  // "status 503", "exit code 2", the socket error text
  Duration latency{};

  static CheckResult success(Duration latency) { return {true, Failure::none, {}, latency}; }
  static CheckResult fail(Failure f, std::string detail, Duration latency = {}) {
    return {false, f, std::move(detail), latency};
  }
  std::string describe() const;  // "ok", "timeout", "wrong status: status 503"
};

}  // namespace anycastd::health
