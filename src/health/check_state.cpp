#include "health/check_state.hpp"

namespace anycastd::health {

std::string to_string(Failure f) {
  switch (f) {
    case Failure::none:
      return "none";
    case Failure::refused:
      return "refused";
    case Failure::timeout:
      return "timeout";
    case Failure::reset:
      return "reset";
    case Failure::wrong_status:
      return "wrong status";
    case Failure::wrong_answer:
      return "wrong answer";
    case Failure::exit_code:
      return "exit code";
    case Failure::error:
      return "error";
  }
  return "?";
}

std::string CheckResult::describe() const {
  if (ok) return agent ? "ok (agent: " + health::describe(*agent) + ")" : "ok";
  return detail.empty() ? to_string(failure) : to_string(failure) + ": " + detail;
}

bool CheckState::record(const CheckResult& r, TimePoint now) {
  ++checks_;
  ++results_[static_cast<size_t>(r.failure)];
  // A timeout's latency is the timeout, not an answer's time: it would skew the buckets.
  if (r.failure != Failure::timeout) latency_.add(r.latency);
  last_ = r;
  if (!since_) since_ = now;
  if (r.ok) {
    ++successes_;
    failures_ = 0;
    if (!up_ && successes_ >= rise_) {
      up_ = true;
      since_ = now;
      return true;
    }
  } else {
    ++failures_;
    successes_ = 0;
    if (up_ && failures_ >= fall_) {
      up_ = false;
      since_ = now;
      return true;
    }
  }
  return false;
}

}  // namespace anycastd::health
