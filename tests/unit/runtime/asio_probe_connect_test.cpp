#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <optional>
#include <string>

#include "runtime/asio/asio_loop.hpp"
#include "runtime/asio/asio_transport.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

namespace {

struct Probe {
  bool done = false;
  std::optional<std::string> error;
};

Probe probe(rt::AsioLoop& loop, rt::AsioTransport& t, Endpoint to,
            std::optional<IpAddress> from = std::nullopt) {
  Probe p;
  auto token = t.probe_connect(from, to, [&](std::optional<std::string> e) {
    p.done = true;
    p.error = std::move(e);
    loop.stop();
  });
  TimerId guard = loop.schedule(5s, [&] { loop.stop(); });
  loop.run();
  loop.cancel(guard);
  loop.context().restart();
  return p;
}

}  // namespace

// The port answers, and the probe's connection never reaches the server's accept queue:
// the last ACK is held back and the socket reset, as HAProxy's checks do.
TEST(AsioProbeConnect, AListeningPortPassesAndIsNeverAccepted) {
  rt::AsioLoop loop;
  rt::AsioTransport t(loop);
  asio::ip::tcp::acceptor server(loop.context(), {asio::ip::make_address("127.0.0.1"), 0});
  Endpoint to{IpAddress::v4(0x7f000001), server.local_endpoint().port()};
  for (int i = 0; i < 50; ++i) {  // the reused socket works again and again
    auto p = probe(loop, t, to);
    ASSERT_TRUE(p.done);
    EXPECT_FALSE(p.error) << "probe " << i << ": " << *p.error;
  }
  auto p = probe(loop, t, to, IpAddress::v4(0x7f000001));  // with a fixed source
  EXPECT_TRUE(p.done && !p.error);
  server.non_blocking(true);
  asio::error_code ec;
  server.accept(ec);
  EXPECT_EQ(ec, asio::error::would_block) << "a probe connection was queued for accept";
}

TEST(AsioProbeConnect, AClosedPortIsRefusedAndTheSocketStillServesTheNextProbe) {
  rt::AsioLoop loop;
  rt::AsioTransport t(loop);
  asio::ip::tcp::acceptor server(loop.context(), {asio::ip::make_address("127.0.0.1"), 0});
  uint16_t open_port = server.local_endpoint().port();
  uint16_t closed_port;
  {
    asio::ip::tcp::acceptor gone(loop.context(), {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = gone.local_endpoint().port();
  }
  auto refused = probe(loop, t, {IpAddress::v4(0x7f000001), closed_port});
  ASSERT_TRUE(refused.done);
  ASSERT_TRUE(refused.error);
  EXPECT_NE(refused.error->find("refused"), std::string::npos) << *refused.error;
  auto ok = probe(loop, t, {IpAddress::v4(0x7f000001), open_port});
  EXPECT_TRUE(ok.done && !ok.error);
}

TEST(AsioProbeConnect, DroppingTheTokenMeansNoCallback) {
  rt::AsioLoop loop;
  rt::AsioTransport t(loop);
  asio::ip::tcp::acceptor server(loop.context(), {asio::ip::make_address("127.0.0.1"), 0});
  bool called = false;
  auto token =
      t.probe_connect(std::nullopt, {IpAddress::v4(0x7f000001), server.local_endpoint().port()},
                      [&](std::optional<std::string>) { called = true; });
  token.reset();
  loop.schedule(20ms, [&] { loop.stop(); });
  loop.run();
  EXPECT_FALSE(called);
}
