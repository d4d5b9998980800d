// The DNS and HAProxy probes against servers on the simulated network.
#include <gtest/gtest.h>

#include "health/dns_message.hpp"
#include "health/probe.hpp"
#include "runtime/sim/sim_network.hpp"

using namespace anycastd;
using namespace anycastd::health;
using namespace std::chrono_literals;

namespace {

const IpAddress kServer = *IpAddress::parse("198.18.5.53");

// Answers A queries with `address`, or with rcode when set; counts what it saw.
struct DnsServer : Datagram::Handler {
  std::unique_ptr<Datagram> sock;
  std::string address = "1.1.1.1";
  uint8_t rcode = 0;
  bool silent = false;
  int queries = 0;
  std::optional<Endpoint> last_from;
  Bytes last_query;
  void on_datagram(const Endpoint& from, ByteView q) override {
    ++queries;
    last_from = from;
    last_query.assign(q.begin(), q.end());
    if (silent) return;
    Bytes r(q.begin(), q.end());
    r[2] = std::byte(0x81);
    r[3] = std::byte(0x80 | rcode);
    if (rcode == 0) {
      r[7] = std::byte(1);
      auto a = IpAddress::parse(address)->v4_value();
      for (int x : {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4}) r.push_back(std::byte(x));
      for (int s : {24, 16, 8, 0}) r.push_back(std::byte((a >> s) & 0xFF));
    }
    sock->send(from, std::move(r));
  }
  void on_error(const std::string&) override {}
};

CheckConfig dns_check(std::string answer = "") {
  CheckConfig c;
  c.name = "dns";
  c.type = CheckType::dns;
  c.target = {kServer, 53};
  c.dns.name = "app.example";
  c.dns.answer = std::move(answer);
  return c;
}

struct SimRun {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 1ms};
  std::optional<CheckResult> result;
  void check(Probe& p) {
    result.reset();
    p.start([this](CheckResult r) { result = r; });
    loop.run_for(100ms);
  }
};

}  // namespace

TEST(DnsProbe, ExpectedAnswerPassesAndAnotherRegionsAnswerFails) {
  SimRun run;
  DnsServer srv;
  srv.sock = *run.net.udp({kServer, 53}, std::nullopt, &srv);
  auto host = run.net.host(*IpAddress::parse("198.18.5.1"));
  auto probe = make_dns_probe(run.loop, *host, dns_check("1.1.1.1"));
  run.check(*probe);
  ASSERT_TRUE(run.result);
  EXPECT_TRUE(run.result->ok) << run.result->describe();
  EXPECT_EQ(run.result->latency, 2ms) << "one round trip";
  srv.address = "2.2.2.2";
  run.check(*probe);
  ASSERT_TRUE(run.result);
  EXPECT_FALSE(run.result->ok);
  EXPECT_EQ(run.result->failure, Failure::wrong_answer);
  EXPECT_EQ(run.result->detail, "answer 2.2.2.2, expected 1.1.1.1");
  EXPECT_EQ(srv.queries, 2);
}

TEST(DnsProbe, WrongRcodeFailsAndNamesIt) {
  SimRun run;
  DnsServer srv;
  srv.rcode = 2;
  srv.sock = *run.net.udp({kServer, 53}, std::nullopt, &srv);
  auto probe = make_dns_probe(run.loop, run.net, dns_check());
  run.check(*probe);
  ASSERT_TRUE(run.result);
  EXPECT_EQ(run.result->failure, Failure::wrong_answer);
  EXPECT_EQ(run.result->detail, "rcode SERVFAIL, expected NOERROR");
}

TEST(DnsProbe, NoServerIsRefusedAtOnceAndSilenceIsLeftToTheTimeout) {
  SimRun run;
  auto probe = make_dns_probe(run.loop, run.net, dns_check());
  run.check(*probe);
  ASSERT_TRUE(run.result);
  EXPECT_EQ(run.result->failure, Failure::refused) << run.result->describe();

  DnsServer srv;
  srv.silent = true;
  srv.sock = *run.net.udp({kServer, 53}, std::nullopt, &srv);
  run.check(*probe);
  EXPECT_FALSE(run.result) << "the Checker's timeout decides";
  probe->cancel();
  run.loop.run_for(1s);
  EXPECT_FALSE(run.result);
}

TEST(DnsProbe, AnswersFromAnotherAddressOrToAnOldQueryAreIgnored) {
  SimRun run;
  DnsServer srv;
  srv.silent = true;
  srv.sock = *run.net.udp({kServer, 53}, std::nullopt, &srv);
  auto probe = make_dns_probe(run.loop, run.net, dns_check("1.1.1.1"));
  run.check(*probe);
  ASSERT_FALSE(run.result);
  ASSERT_TRUE(srv.last_from);
  // A spoofer on another address answers the probe's port with a well-formed reply: the
  // connected socket drops it.
  DnsServer spoofer;
  spoofer.address = "6.6.6.6";
  spoofer.sock = *run.net.udp({*IpAddress::parse("198.18.5.66"), 53}, std::nullopt, &spoofer);
  spoofer.on_datagram(*srv.last_from, srv.last_query);
  run.loop.run_for(10ms);
  EXPECT_FALSE(run.result);
  // The real server answers a stale query id first, then the live one.
  srv.silent = false;
  Bytes live = srv.last_query;
  Endpoint probe_at = *srv.last_from;
  Bytes stale = live;
  stale[1] = std::byte(static_cast<uint8_t>(stale[1]) ^ 0xFF);
  srv.address = "2.2.2.2";
  srv.on_datagram(probe_at, stale);
  run.loop.run_for(10ms);
  EXPECT_FALSE(run.result);
  srv.address = "1.1.1.1";
  srv.on_datagram(probe_at, live);
  run.loop.run_for(10ms);
  ASSERT_TRUE(run.result);
  EXPECT_TRUE(run.result->ok) << run.result->describe();
}

namespace {

// A stats socket on TCP (`stats socket ipv4@...`): writes `csv` and closes after a command.
struct StatsServer : Stream::Handler {
  std::string csv;
  std::unique_ptr<Stream> conn;
  std::string got;
  void on_data(ByteView d) override {
    for (auto b : d) got.push_back(char(b));
    if (got.find('\n') == std::string::npos) return;
    Bytes out;
    for (char c : csv) out.push_back(std::byte(c));
    conn->write(std::move(out));
    conn->close();
  }
  void on_closed(const std::string&) override {}
};

CheckConfig haproxy_check(std::string server) {
  CheckConfig c;
  c.name = "haproxy";
  c.type = CheckType::haproxy;
  c.target = {kServer, 9999};
  c.haproxy.backend = "web";
  c.haproxy.server = std::move(server);
  return c;
}

}  // namespace

TEST(HaproxyProbe, ReadsTheServersStatusFromShowStat) {
  SimRun run;
  StatsServer srv;
  srv.csv = "# pxname,svname,status\nweb,weu-1,UP\nweb,weu-2,MAINT\n";
  auto l = run.net.listen({kServer, 9999}, [&](std::unique_ptr<Stream> s) {
    srv.conn = std::move(s);
    srv.conn->start(&srv);
  });
  ASSERT_TRUE(l);
  auto up = make_haproxy_probe(run.loop, run.net, haproxy_check("weu-1"));
  run.check(*up);
  ASSERT_TRUE(run.result);
  EXPECT_TRUE(run.result->ok) << run.result->describe();
  EXPECT_EQ(srv.got, "show stat\n");

  auto maint = make_haproxy_probe(run.loop, run.net, haproxy_check("weu-2"));
  run.check(*maint);
  ASSERT_TRUE(run.result);
  EXPECT_EQ(run.result->failure, Failure::wrong_answer);
  EXPECT_EQ(run.result->detail, "web/weu-2 is MAINT");

  auto missing = make_haproxy_probe(run.loop, run.net, haproxy_check("weu-7"));
  run.check(*missing);
  ASSERT_TRUE(run.result);
  EXPECT_EQ(run.result->detail, "web/weu-7 not in show stat");
}

TEST(HaproxyProbe, NoStatsSocketIsAFailureNotAHang) {
  SimRun run;
  auto p = make_haproxy_probe(run.loop, run.net, haproxy_check("weu-1"));
  run.check(*p);
  ASSERT_TRUE(run.result);
  EXPECT_EQ(run.result->failure, Failure::refused);
  auto cfg = haproxy_check("weu-1");
  cfg.haproxy.socket = "/run/haproxy/admin.sock";
  auto unix_probe = make_haproxy_probe(run.loop, run.net, cfg);
  run.check(*unix_probe);
  ASSERT_TRUE(run.result);
  EXPECT_FALSE(run.result->ok);
}
