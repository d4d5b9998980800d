#pragma once
// What an HTTP check makes of a response as its bytes arrive, sans-I/O: not yet complete,
// or a verdict (status, body, whether the connection can carry the next check). Fed bytes
// from a backend, so it is fuzzed: any input is a verdict, never a crash or a read past it.
#include <string>
#include <string_view>

#include "health/check_config.hpp"

namespace anycastd::health {

// A response that has not ended by this size fails: a backend cannot make the check
// hold unbounded memory.
constexpr size_t kMaxHttpResponse = 1 << 20;

struct HttpVerdict {
  enum class Kind { pending, ok, not_http, truncated, too_large, wrong_status, wrong_body };
  Kind kind = Kind::pending;
  int status = 0;
  bool reusable = false;  // framed, HTTP/1.1, and the server did not ask to close
  std::string detail;     // for a failure, the sentence the check reports
};

// `response` is everything read so far; `closed`: the server has closed the connection.
HttpVerdict judge_http_response(std::string_view response, bool closed, const HttpSettings& s);

}  // namespace anycastd::health
