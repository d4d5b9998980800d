// libFuzzer target: a request head on the metrics listener, through the function the
// listener calls for it. Any bytes get one whole HTTP/1.1 answer whose Content-Length is
// its body's; only GET /metrics gets the exposition text, and /healthz the probe's verdict.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/metrics_http.hpp"
#include "core/internal_error.hpp"

using namespace anycastd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kBody = "anycastd_build_info{version=\"fuzz\"} 1\n";
  std::string_view head(reinterpret_cast<const char*>(data), size);
  const uint64_t errors_before = internal_errors();
  // With a health callback, as the daemon installs one: /healthz is a page too.
  const bool healthy = size % 2 == 0;
  std::string answer = api::MetricsHttp::respond(
      [] { return kBody; }, head,
      [healthy] { return std::make_pair(healthy, std::string("1 of 1 VIPs announced")); });
  if (internal_errors() != errors_before) abort();
  if (answer.rfind("HTTP/1.1 ", 0) != 0) abort();
  auto end = answer.find("\r\n\r\n");
  if (end == std::string::npos) abort();
  auto body = answer.substr(end + 4);
  auto cl = answer.find("Content-Length: ");
  if (cl == std::string::npos || std::stoul(answer.substr(cl + 16)) != body.size()) abort();
  const bool ok = answer.rfind("HTTP/1.1 200 ", 0) == 0;
  const bool probe = body == "1 of 1 VIPs announced\n";
  if (ok && !(body == kBody || (probe && healthy))) abort();
  if (body == kBody && head.rfind("GET /metrics", 0) != 0) abort();
  if (probe && head.find("/healthz") == std::string_view::npos) abort();
  return 0;
}
