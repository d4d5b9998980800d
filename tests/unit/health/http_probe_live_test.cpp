// The HTTP check over real sockets (the kernel, asio's streams and loop): what the
// simulated tests in http_probe_test.cpp cannot show.
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "health/checker.hpp"
#include "health/probe.hpp"
#include "runtime/asio/asio_loop.hpp"
#include "runtime/asio/asio_transport.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

// The HTTP check's kept connection over real sockets: every check on one connection, and
// the server closing it is noticed between checks (the watch) and answered with a re-check
// on a new connection.
TEST(AsioHttpKeepAlive, ChecksShareOneConnectionAndAClosedOneIsNoticedAtOnce) {
  rt::AsioLoop loop;
  rt::AsioTransport t(loop);
  asio::ip::tcp::acceptor server(loop.context(), {asio::ip::make_address("127.0.0.1"), 0});
  int accepted = 0;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> conns;
  std::vector<std::unique_ptr<std::function<void()>>> readers;
  std::function<void()> accept = [&] {
    server.async_accept([&](std::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      ++accepted;
      auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(s));
      conns.push_back(sock);
      auto buf = std::make_shared<std::string>();
      auto chunk = std::make_shared<std::array<char, 1024>>();
      // Owned by the test, not by its own captures: no cycle for the leak checker.
      auto* read = readers.emplace_back(std::make_unique<std::function<void()>>()).get();
      *read = [sock, buf, chunk, read] {
        sock->async_read_some(asio::buffer(*chunk), [sock, buf, chunk, read](auto ec, size_t n) {
          if (ec) return;
          buf->append(chunk->data(), n);
          size_t end;
          while ((end = buf->find("\r\n\r\n")) != std::string::npos) {
            buf->erase(0, end + 4);
            static const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            asio::write(*sock, asio::buffer(reply));
          }
          (*read)();
        });
      };
      (*read)();
      accept();
    });
  };
  accept();

  health::CheckConfig c;
  c.name = "web";
  c.type = health::CheckType::http;
  c.target = {IpAddress::v4(0x7f000001), server.local_endpoint().port()};
  c.interval = 100ms;
  c.timeout = 80ms;
  c.fast_interval = 5ms;
  c.rise = 1;
  health::Checker checker(loop, c, health::make_http_probe(loop, t, c), &t);
  std::vector<TimePoint> checks;
  checker.on_result = [&](health::Checker& k, bool) {
    EXPECT_TRUE(k.state().last()->ok) << k.state().last()->describe();
    checks.push_back(loop.now());
  };
  checker.start();
  TimePoint dropped;
  loop.schedule(310ms, [&] {
    EXPECT_EQ(accepted, 1) << "checks did not share the connection";
    conns.front()->close();  // the server drops it between checks
    dropped = loop.now();
  });
  loop.schedule(450ms, [&] { loop.stop(); });
  loop.run();
  checker.stop();
  EXPECT_EQ(accepted, 2);
  ASSERT_GE(checks.size(), 5u);
  // The re-check came at the fast interval, well before the next slot (400 ms).
  auto after = std::find_if(checks.begin(), checks.end(), [&](TimePoint p) { return p > dropped; });
  ASSERT_NE(after, checks.end());
  EXPECT_LT(*after - dropped, 60ms);
}

// An agent check against a small real agent on loopback: each connection gets the agent's
// current line and is closed, as HAProxy's agents do. The answers become results the
// health link can apply; a malformed one fails the check and is quoted.
TEST(AgentProbe, AnswersOfARealAgent) {
  rt::AsioLoop loop;
  rt::AsioTransport t(loop);
  asio::ip::tcp::acceptor server(loop.context(), {asio::ip::make_address("127.0.0.1"), 0});
  std::string answer = "drain 50%\n";
  std::string sent_to_agent;
  std::function<void()> accept = [&] {
    server.async_accept([&](std::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(s));
      auto buf = std::make_shared<std::array<char, 64>>();
      // agent-send arrives first; the agent answers after reading it.
      sock->async_read_some(asio::buffer(*buf), [&, sock, buf](auto, size_t n) {
        sent_to_agent.assign(buf->data(), n);
        asio::write(*sock, asio::buffer(answer));
        sock->close();
      });
      accept();
    });
  };
  accept();
  health::CheckConfig c;
  c.name = "agent";
  c.type = health::CheckType::agent;
  c.target = {IpAddress::v4(0x7F000001), server.local_endpoint().port()};
  c.agent.send = "web/b1\n";
  auto probe = health::make_network_probe(loop, t, c);
  auto once = [&] {
    std::optional<health::CheckResult> got;
    probe->start([&](health::CheckResult r) {
      got = r;
      loop.stop();
    });
    loop.context().restart();
    loop.run();
    return got;
  };
  auto r = once();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->describe();
  ASSERT_TRUE(r->agent);
  EXPECT_EQ(r->agent->admin, health::AgentAdmin::drain);
  EXPECT_EQ(r->agent->weight_percent, 50u);
  EXPECT_EQ(sent_to_agent, "web/b1\n");
  EXPECT_EQ(r->describe(), "ok (agent: drain 50%)");
  answer = "down#maintenance window\n";
  r = once();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->describe(), "wrong answer: agent says down #maintenance window");
  answer = "sideways\n";
  r = once();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->describe(),
            "wrong answer: malformed agent answer \"sideways\": unknown word 'sideways'");
  EXPECT_FALSE(r->agent);
}
