#include "health/http_response.hpp"

#include <gtest/gtest.h>

using namespace anycastd::health;
using K = HttpVerdict::Kind;

namespace {

HttpSettings settings(std::string body = "", bool keep_alive = true) {
  HttpSettings s;
  s.body = std::move(body);
  s.keep_alive = keep_alive;
  return s;
}

}  // namespace

TEST(HttpResponse, WaitsForTheWholeFramedBodyThenKeepsTheConnection) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel";
  EXPECT_EQ(judge_http_response(r, false, settings()).kind, K::pending);
  auto v = judge_http_response(r + "lo", false, settings());
  EXPECT_EQ(v.kind, K::ok);
  EXPECT_TRUE(v.reusable);
  auto closing = judge_http_response(
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, settings());
  EXPECT_EQ(closing.kind, K::ok);
  EXPECT_FALSE(closing.reusable);
}

TEST(HttpResponse, StatusBodyAndGarbageAreTheirOwnFailures) {
  EXPECT_EQ(judge_http_response("HTTP/1.1 503 Busy\r\n\r\n", false, settings()).kind,
            K::wrong_status);
  EXPECT_EQ(judge_http_response("SSH-2.0-OpenSSH\r\n\r\n", false, settings()).kind, K::not_http);
  EXPECT_EQ(judge_http_response("HTTP/1.1 20", true, settings()).kind, K::truncated);
  auto body = judge_http_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno", false,
                                  settings("I'm running"));
  EXPECT_EQ(body.kind, K::wrong_body);
}

// A Content-Length that is not a number does not frame the body: the check reads until the
// server closes instead of taking the response as complete at once.
TEST(HttpResponse, ABadContentLengthIsNotAFrame) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\nabc";
  EXPECT_EQ(judge_http_response(r, false, settings()).kind, K::pending);
  auto v = judge_http_response(r, true, settings());
  EXPECT_EQ(v.kind, K::ok);
  EXPECT_FALSE(v.reusable);
}

// A backend that streams forever (or claims a huge body) cannot make the check hold more
// than kMaxHttpResponse.
TEST(HttpResponse, AResponseThatNeverEndsFailsAtTheLimit) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n";
  r.append(kMaxHttpResponse, 'x');
  EXPECT_EQ(judge_http_response(r, false, settings()).kind, K::too_large);
  std::string headers(kMaxHttpResponse + 1, 'h');
  EXPECT_EQ(judge_http_response(headers, false, settings()).kind, K::too_large);
}
