// libFuzzer target: a backend's HTTP response as an HTTP check reads it. The first byte
// picks the check's settings and whether the server closed; the rest is the response, fed
// whole and then in two parts, which must agree on the verdict once complete.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "health/http_response.hpp"

using namespace anycastd::health;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  HttpSettings s;
  s.keep_alive = data[0] & 1;
  if (data[0] & 2) s.body = "ok";
  if (data[0] & 4) s.statuses = {200, 204, 301};
  const bool closed = data[0] & 8;
  std::string_view r(reinterpret_cast<const char*>(data + 1), size - 1);
  auto whole = judge_http_response(r, closed, s);
  if (whole.kind == HttpVerdict::Kind::ok && whole.reusable && closed) abort();
  // A prefix that already had a verdict must have had the same one: bytes after the end
  // of a response do not change what the response was.
  auto half = judge_http_response(r.substr(0, r.size() / 2), false, s);
  if (half.kind != HttpVerdict::Kind::pending && whole.kind == HttpVerdict::Kind::pending) abort();
  return 0;
}
