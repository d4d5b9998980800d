#include "health/http_response.hpp"

#include <algorithm>
#include <charconv>

namespace anycastd::health {

namespace {

HttpVerdict fail(HttpVerdict::Kind k, std::string why, int status = 0) {
  HttpVerdict v;
  v.kind = k;
  v.status = status;
  v.detail = std::move(why);
  return v;
}

// The decimal number after a header name, or nullopt when there is none.
std::optional<size_t> number_at(std::string_view head, size_t at) {
  while (at < head.size() && (head[at] == ' ' || head[at] == '\t')) ++at;
  size_t n = 0;
  auto [end, ec] = std::from_chars(head.data() + at, head.data() + head.size(), n);
  if (ec != std::errc() || end == head.data() + at) return std::nullopt;
  return n;
}

}  // namespace

HttpVerdict judge_http_response(std::string_view buf, bool closed, const HttpSettings& s) {
  using K = HttpVerdict::Kind;
  auto head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (buf.size() > kMaxHttpResponse) return fail(K::too_large, "response headers over 1 MiB");
    if (closed && !buf.empty()) return fail(K::truncated, "truncated response headers");
    return {};
  }
  // "HTTP/1.1 200 OK"
  int status = 0;
  if (buf.rfind("HTTP/1.", 0) != 0 || buf.size() < 12 ||
      std::from_chars(buf.data() + 9, buf.data() + 12, status).ec != std::errc())
    return fail(K::not_http, "not an HTTP response");
  if (std::find(s.statuses.begin(), s.statuses.end(), status) == s.statuses.end())
    return fail(K::wrong_status, "status " + std::to_string(status), status);
  HttpVerdict ok;
  ok.kind = K::ok;
  ok.status = status;
  if (s.body.empty() && !s.keep_alive) return ok;
  std::string head(buf.substr(0, head_end));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t body_len = buf.size() - head_end - 4;
  bool framed = true, complete = closed;
  if (status == 204 || status == 304 || status < 200) {
    complete = true;
  } else if (auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
    auto want = number_at(head, cl + 17);
    framed = want.has_value();
    complete = complete || (want && body_len >= *want);
  } else if (head.find("chunked") != std::string::npos) {
    complete = complete || buf.find("\r\n0\r\n\r\n", head_end) != std::string_view::npos;
  } else {
    framed = false;  // the body ends when the server closes
  }
  if (!complete) {
    if (buf.size() > kMaxHttpResponse) return fail(K::too_large, "response over 1 MiB", status);
    return {};
  }
  ok.reusable = !closed && framed && buf.compare(5, 3, "1.1") == 0 &&
                head.find("\r\nconnection: close") == std::string::npos;
  if (!s.body.empty() && buf.find(s.body, head_end + 4) == std::string_view::npos)
    return fail(K::wrong_body, "body lacks \"" + s.body + "\"", status);
  return ok;
}

}  // namespace anycastd::health
