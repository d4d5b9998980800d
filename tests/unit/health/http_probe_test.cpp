// The HTTP check against a server on the simulated network: keep-alive reuse, the servers
// that do not allow it, and the kept connection as the watch.
#include <gtest/gtest.h>

#include "health/checker.hpp"
#include "health/probe.hpp"
#include "runtime/sim/sim_network.hpp"

using namespace anycastd;
using namespace anycastd::health;
using namespace std::chrono_literals;

namespace {

const Endpoint kWeb{*IpAddress::parse("198.18.5.80"), 80};

// Answers each complete request with 200 "ok"; how it frames and ends the response is set
// per test. Counts connections and requests.
struct WebServer {
  enum class Mode { keep_alive, connection_close, unframed, drop_second_request };
  struct Conn : Stream::Handler {
    WebServer* server;
    std::unique_ptr<Stream> s;
    std::string in;
    int answered = 0;
    void on_data(ByteView d) override {
      in.append(reinterpret_cast<const char*>(d.data()), d.size());
      size_t end;
      while ((end = in.find("\r\n\r\n")) != std::string::npos) {
        server->requests.push_back(in.substr(0, end));
        in.erase(0, end + 4);
        if (server->mode == Mode::drop_second_request && answered == 1) return s->close();
        ++answered;
        std::string r = "HTTP/1.1 200 OK\r\n";
        if (server->mode == Mode::connection_close) r += "Connection: close\r\n";
        if (server->mode != Mode::unframed) r += "Content-Length: 2\r\n";
        r += "\r\nok";
        s->write(Bytes(reinterpret_cast<const std::byte*>(r.data()),
                       reinterpret_cast<const std::byte*>(r.data()) + r.size()));
        if (server->mode == Mode::connection_close || server->mode == Mode::unframed)
          return s->close();
      }
    }
    void on_closed(const std::string&) override {}
  };
  Mode mode = Mode::keep_alive;
  int connections = 0;
  std::vector<std::string> requests;
  std::vector<std::unique_ptr<Conn>> conns;
  std::unique_ptr<Listener> listener;
  WebServer(Transport& t, Mode m) : mode(m) {
    listener = std::move(*t.listen(kWeb, [this](std::unique_ptr<Stream> s) {
      ++connections;
      auto c = std::make_unique<Conn>();
      c->server = this;
      c->s = std::move(s);
      c->s->start(c.get());
      conns.push_back(std::move(c));
    }));
  }
  void crash() {
    listener.reset();
    for (auto& c : conns) c->s->close();
  }
};

CheckConfig http_check() {
  CheckConfig c;
  c.name = "web";
  c.type = CheckType::http;
  c.target = kWeb;
  c.interval = 1s;
  c.timeout = 500ms;
  c.fast_interval = 20ms;
  c.http.body = "ok";
  return c;
}

struct CheckRun {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 1ms};
  std::vector<CheckResult> results;
  std::unique_ptr<Checker> checker;
  void start(CheckConfig c) {
    checker = std::make_unique<Checker>(loop, c, make_http_probe(loop, net, c), &net);
    checker->on_result = [this](Checker& k, bool) { results.push_back(*k.state().last()); };
    checker->start();
  }
  int failures() const {
    int n = 0;
    for (const auto& r : results) n += !r.ok;
    return n;
  }
};

}  // namespace

TEST(HttpProbe, KeepAliveSendsEveryCheckOnOneConnection) {
  CheckRun run;
  WebServer web(run.net, WebServer::Mode::keep_alive);
  run.start(http_check());
  run.loop.run_for(10s + 100ms);
  EXPECT_EQ(run.results.size(), 11u);
  EXPECT_EQ(run.failures(), 0);
  EXPECT_TRUE(run.checker->state().up());
  EXPECT_EQ(web.connections, 1) << "a check per connection despite keep-alive";
  ASSERT_FALSE(web.requests.empty());
  EXPECT_EQ(web.requests[0].find("Connection: close"), std::string::npos);
}

TEST(HttpProbe, WithoutKeepAliveEachCheckHasItsOwnConnection) {
  CheckRun run;
  WebServer web(run.net, WebServer::Mode::keep_alive);
  auto c = http_check();
  c.http.keep_alive = false;
  c.watch = false;
  run.start(c);
  run.loop.run_for(5s + 100ms);
  EXPECT_EQ(run.failures(), 0);
  EXPECT_EQ(web.connections, 6);
  EXPECT_NE(web.requests[0].find("Connection: close"), std::string::npos);
}

// A server that ends each response with a close, or whose response has no length, gets a
// new connection per check and passes all the same.
TEST(HttpProbe, ServersThatCloseAfterEachResponseStillPass) {
  for (auto mode : {WebServer::Mode::connection_close, WebServer::Mode::unframed}) {
    CheckRun run;
    WebServer web(run.net, mode);
    auto c = http_check();
    c.watch = false;
    run.start(c);
    run.loop.run_for(5s + 100ms);
    EXPECT_EQ(run.failures(), 0) << static_cast<int>(mode);
    EXPECT_TRUE(run.checker->state().up());
    EXPECT_EQ(web.connections, 6) << static_cast<int>(mode);
  }
}

// The server drops the kept connection just as the next request goes out: the check is
// retried once on a new connection, not counted as a failure.
TEST(HttpProbe, AKeptConnectionClosedUnderTheRequestIsRetriedOnce) {
  CheckRun run;
  WebServer web(run.net, WebServer::Mode::drop_second_request);
  auto c = http_check();
  c.watch = false;
  run.start(c);
  run.loop.run_for(5s + 100ms);
  EXPECT_EQ(run.failures(), 0);
  EXPECT_EQ(run.results.size(), 6u);
  EXPECT_GE(web.connections, 3);
}

// With keep-alive the check's own connection is the watch: a crash is seen at once.
TEST(HttpProbe, TheKeptConnectionDetectsACrashWithinMilliseconds) {
  CheckRun run;
  auto web = std::make_unique<WebServer>(run.net, WebServer::Mode::keep_alive);
  run.start(http_check());
  run.loop.run_for(3s + 100ms);
  ASSERT_TRUE(run.checker->state().up());
  EXPECT_EQ(web->connections, 1) << "a separate watch connection was opened";
  TimePoint crash = run.loop.now();
  web->crash();
  std::optional<TimePoint> down;
  run.checker->on_result = [&](Checker& k, bool flipped) {
    if (flipped && !k.state().up()) down = run.loop.now();
  };
  run.loop.run_for(500ms);
  ASSERT_TRUE(down);
  EXPECT_LT(down.value() - crash, 100ms);
  EXPECT_EQ(run.checker->state().last()->failure, Failure::refused);
}

// A stopped check (removed by a reload, or the daemon stopping) lets go of its kept
// connection rather than holding it until the probe is destroyed.
TEST(HttpProbe, StoppingTheCheckClosesTheKeptConnection) {
  CheckRun run;
  WebServer web(run.net, WebServer::Mode::keep_alive);
  struct Closed : Stream::Handler {
    bool closed = false;
    void on_data(ByteView) override {}
    void on_closed(const std::string&) override { closed = true; }
  };
  run.start(http_check());
  run.loop.run_for(1s + 100ms);
  ASSERT_EQ(web.connections, 1);
  ASSERT_FALSE(run.results.empty());
  // Listen on the server's side of the kept connection for its end.
  Closed seen;
  web.conns.front()->s->start(&seen);
  run.checker->stop();
  run.loop.run_for(50ms);
  EXPECT_TRUE(seen.closed) << "the kept connection outlived the stopped check";
}
