// The simulated network's faults, below the protocols that notice them.
#include <gtest/gtest.h>

#include <cstring>

#include "runtime/sim/sim_network.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

namespace {

struct Inbox : Datagram::Handler {
  std::vector<std::string> got;
  void on_datagram(const Endpoint&, ByteView d) override {
    got.emplace_back(reinterpret_cast<const char*>(d.data()), d.size());
  }
  void on_error(const std::string&) override {}
};

struct Catcher : Stream::Handler {
  std::string data;
  void on_data(ByteView d) override {
    data.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  void on_closed(const std::string&) override {}
};

Bytes bytes(const std::string& s) {
  Bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

}  // namespace

// A frozen host is cut off from every other host at once, both ways; the others still
// reach each other, and what it sent on a connection arrives after it rejoins.
TEST(SimNetwork, IsolatedHostReachesNobodyUntilItRejoins) {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 1ms};
  Inbox a, b, c;
  auto ua = *net.udp({ip("10.0.0.1"), 3784}, std::nullopt, &a);
  auto ub = *net.udp({ip("10.0.0.2"), 3784}, std::nullopt, &b);
  auto uc = *net.udp({ip("10.0.0.3"), 3784}, std::nullopt, &c);

  std::unique_ptr<Stream> server, client;
  Catcher at_server;
  auto l = *net.listen({ip("10.0.0.2"), 179}, [&](std::unique_ptr<Stream> s) {
    server = std::move(s);
    server->start(&at_server);
  });
  auto token =
      net.connect(ip("10.0.0.1"), {ip("10.0.0.2"), 179}, [&](auto r) { client = std::move(*r); });
  loop.run_for(10ms);
  ASSERT_TRUE(client && server);

  net.isolate(ip("10.0.0.1"));
  ua->send({ip("10.0.0.2"), 3784}, bytes("a->b"));
  ub->send({ip("10.0.0.1"), 3784}, bytes("b->a"));
  uc->send({ip("10.0.0.2"), 3784}, bytes("c->b"));
  client->write(bytes("held"));
  loop.run_for(100ms);
  EXPECT_TRUE(a.got.empty());
  EXPECT_EQ(b.got, std::vector<std::string>{"c->b"});
  EXPECT_EQ(at_server.data, "");

  net.rejoin(ip("10.0.0.1"));
  loop.run_for(10ms);
  EXPECT_EQ(at_server.data, "held");  // TCP retransmits it; the datagrams are gone
  EXPECT_TRUE(a.got.empty());
  ua->send({ip("10.0.0.2"), 3784}, bytes("again"));
  loop.run_for(10ms);
  EXPECT_EQ(b.got, (std::vector<std::string>{"c->b", "again"}));
}
