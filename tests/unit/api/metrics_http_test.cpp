// The metrics listener's answers, from the request head alone.
#include "api/metrics_http.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "core/internal_error.hpp"

using namespace anycastd;

TEST(MetricsHttp, ScrapeGetsTheTextOthersGetTheirStatus) {
  auto body = [] { return std::string("x 1\n"); };
  auto ok = api::MetricsHttp::respond(body, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(ok.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(ok.substr(ok.size() - 4), "x 1\n");
  EXPECT_EQ(
      api::MetricsHttp::respond(body, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0),
      0u);
  EXPECT_EQ(api::MetricsHttp::respond(body, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(api::MetricsHttp::respond(body, "").rfind("HTTP/1.1 405", 0), 0u);
}

// A scrape whose text cannot be made is a 500 and a counted internal error, not a dead
// daemon.
TEST(MetricsHttp, ABodyThatThrowsIsA500) {
  const auto before = internal_errors();
  auto r = api::MetricsHttp::respond([]() -> std::string { throw std::out_of_range("x"); },
                                     "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 500 ", 0), 0u);
  EXPECT_EQ(internal_errors(), before + 1);
}

TEST(MetricsHttp, HealthzAnswersTheVerdictWithItsReason) {
  auto body = [] { return std::string("x 1\n"); };
  bool ok = true;
  api::MetricsHttp::Health health = [&] {
    return std::make_pair(ok, std::string(ok ? "1 of 1 VIPs announced" : "0 of 1 VIPs announced"));
  };
  auto r = api::MetricsHttp::respond(body, "GET /healthz HTTP/1.1\r\n\r\n", health);
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_EQ(r.substr(r.size() - 22), "1 of 1 VIPs announced\n");
  ok = false;
  r = api::MetricsHttp::respond(body, "GET /healthz HTTP/1.1\r\n\r\n", health);
  EXPECT_EQ(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << r;
  // Without a health callback there is no such page.
  EXPECT_EQ(
      api::MetricsHttp::respond(body, "GET /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0),
      0u);
}
