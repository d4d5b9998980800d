// libFuzzer target: a request head on the metrics listener, through the function the
// listener calls for it. Any bytes get one whole HTTP/1.1 answer whose Content-Length is
// its body's; only GET /metrics gets the exposition text.
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
  std::string answer = api::MetricsHttp::respond([] { return kBody; }, head);
  if (internal_errors() != errors_before) abort();
  if (answer.rfind("HTTP/1.1 ", 0) != 0) abort();
  auto end = answer.find("\r\n\r\n");
  if (end == std::string::npos) abort();
  auto body = answer.substr(end + 4);
  auto cl = answer.find("Content-Length: ");
  if (cl == std::string::npos || std::stoul(answer.substr(cl + 16)) != body.size()) abort();
  const bool scrape = answer.rfind("HTTP/1.1 200 ", 0) == 0;
  if (scrape != (body == kBody)) abort();
  if (scrape && head.rfind("GET /metrics", 0) != 0) abort();
  return 0;
}
