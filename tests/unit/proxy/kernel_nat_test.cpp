// `forwarding: nat`: a tc program translates addresses, so the backend sees the client itself
// and the client sees the VIP answer, for UDP datagrams and TCP connections alike. These
// tests need CAP_BPF and CAP_NET_ADMIN (root in CI) and skip without them.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "loopback_servers.hpp"
#include "proxy/bpf/nat_shared.h"
#include "proxy/engine.hpp"
#include "proxy/kernel_nat.hpp"
#include "tcp_echo.hpp"

using namespace anycastd;
using namespace anycastd::proxy;
using namespace anycastd::proxy::testing;
using namespace std::chrono_literals;

namespace {

constexpr uint16_t kPort = 18320;

ServiceConfig udp_service(const std::string& vip, std::vector<std::pair<Endpoint, uint32_t>> bs) {
  ServiceConfig s;
  s.name = "dns";
  s.listen = ep(vip, kPort);
  s.protocol = Protocol::udp;
  s.forwarding = Forwarding::nat;
  s.hash = HashOn::five_tuple;
  for (auto& [e, w] : bs) s.backends.push_back({e, w, {}});
  return s;
}

Result<std::unique_ptr<Engine>, std::string> start(const ServiceConfig& s) {
  ProxyConfig cfg;
  cfg.threads = 1;
  cfg.services.push_back(s);
  return Engine::start(cfg);
}

#define SKIP_WITHOUT_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "address translation needs CAP_BPF and CAP_NET_ADMIN"

TEST(NatUdp, AnswersComeFromTheVipAndTheBackendSeesTheClient) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b("127.0.32.11", "b1");
  auto e = start(udp_service("127.0.32.1", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ((*e)->stats(0).forwarding, "nat");
  UdpClient c("127.0.32.100");
  const Endpoint vip = ep("127.0.32.1", kPort);
  size_t asked = 0, answered = 0;
  for (int i = 0; i < 3; ++i) {
    std::string q = "q" + std::to_string(i);
    auto [answer, from] = c.ask(vip, q);
    std::string want = "b1 " + q + " " + c.self().to_string();
    EXPECT_EQ(answer, want);
    EXPECT_EQ(from, vip.to_string());
    asked += q.size();
    answered += want.size();
  }
  EXPECT_EQ(b.received(), 3);
  auto st = (*e)->stats(0);
  EXPECT_EQ(st.backends[0].connections, 1u);  // one flow for one client
  EXPECT_EQ(st.kernel_connections, 1u);
  EXPECT_EQ(st.bytes_in, asked);
  EXPECT_EQ(st.bytes_out, answered);
}

TEST(NatUdp, WeightsSpreadClientsAndAnUnhealthyBackendsFlowsMove) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b1("127.0.32.21", "b1"), b2("127.0.32.22", "b2");
  auto e = start(udp_service("127.0.32.2", {{b1.endpoint(), 1}, {b2.endpoint(), 3}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.2", kPort);
  std::vector<std::unique_ptr<UdpClient>> clients;
  std::map<std::string, int> by;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<UdpClient>("127.0.32.100"));
    auto [answer, from] = clients.back()->ask(vip, "q");
    ASSERT_EQ(from, vip.to_string()) << answer;
    ++by[answer.substr(0, 2)];
  }
  // 1:3 by weight, taken in turn on each CPU (round robin, the default).
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_NEAR(by["b1"], 50, 2 * cpus);
  EXPECT_NEAR(by["b2"], 150, 2 * cpus);
  EXPECT_EQ(by["b1"] + by["b2"], 200);

  (*e)->set_backend_health(0, 1, false);
  for (auto& c : clients) EXPECT_EQ(c->ask(vip, "r").first.substr(0, 2), "b1");
  EXPECT_EQ((*e)->stats(0).backends[0].connections, 200u);  // b2's flows started anew on b1

  // None healthy: a query is the threads' to refuse, as on the user-space path.
  (*e)->set_backend_health(0, 0, false);
  EXPECT_EQ(clients.front()->ask(vip, "s").first, "");
  EXPECT_EQ((*e)->stats(0).refused, 1u);
}

// `balance: maglev` hashes instead: every socket of one client address (`hash: client`)
// meets the same backend, whichever CPU sends.
TEST(NatUdp, MaglevKeepsAClientAddressOnOneBackend) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b1("127.0.32.111", "b1"), b2("127.0.32.112", "b2");
  auto svc = udp_service("127.0.32.110", {{b1.endpoint(), 1}, {b2.endpoint(), 1}});
  svc.balance = Balance::maglev;
  svc.hash = HashOn::client;
  auto e = start(svc);
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.110", kPort);
  std::map<std::string, int> by;
  for (int i = 0; i < 20; ++i) {
    UdpClient c("127.0.32.100");
    ++by[c.ask(vip, "q").first.substr(0, 2)];
  }
  EXPECT_EQ(by.size(), 1u) << "b1 " << by["b1"] << ", b2 " << by["b2"];
}

TEST(NatUdp, DrainKeepsOpenFlowsAndRefusesNewOnes) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b("127.0.32.31", "b1");
  auto e = start(udp_service("127.0.32.3", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.3", kPort);
  UdpClient old("127.0.32.100");
  EXPECT_EQ(old.ask(vip, "a").second, vip.to_string());
  (*e)->drain(0);
  EXPECT_EQ(old.ask(vip, "b").first, "b1 b " + old.self().to_string());
  UdpClient fresh("127.0.32.101");
  EXPECT_EQ(fresh.ask(vip, "c").first, "");
  EXPECT_EQ(b.received(), 2);
  EXPECT_EQ((*e)->stats(0).refused, 1u);
}

// The program is attached by a link that lives as long as the engine: once it is gone,
// nothing translates the VIP's datagrams any more.
TEST(NatUdp, StopsWithTheEngine) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b("127.0.32.41", "b1");
  const Endpoint vip = ep("127.0.32.4", kPort);
  UdpClient c("127.0.32.100");
  {
    auto e = start(udp_service("127.0.32.4", {{b.endpoint(), 1}}));
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(c.ask(vip, "a").second, vip.to_string());
  }
  EXPECT_EQ(c.ask(vip, "b").first, "");
  EXPECT_EQ(b.received(), 1);
}

// Each engine attaches its own program to every interface; each must let the other's
// datagrams on to it.
TEST(NatUdp, TwoEnginesShareTheInterfaces) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b1("127.0.32.51", "b1"), b2("127.0.32.52", "b2");
  auto e1 = start(udp_service("127.0.32.5", {{b1.endpoint(), 1}}));
  auto e2 = start(udp_service("127.0.32.6", {{b2.endpoint(), 1}}));
  ASSERT_TRUE(e1) << e1.error();
  ASSERT_TRUE(e2) << e2.error();
  UdpClient c("127.0.32.100");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(c.ask(ep("127.0.32.5", kPort), "a"),
              std::make_pair("b1 a " + c.self().to_string(), std::string("127.0.32.5:18320")));
    EXPECT_EQ(c.ask(ep("127.0.32.6", kPort), "b"),
              std::make_pair("b2 b " + c.self().to_string(), std::string("127.0.32.6:18320")));
  }
}

ServiceConfig tcp_service(const std::string& vip, std::vector<std::pair<Endpoint, uint32_t>> bs) {
  auto s = udp_service(vip, std::move(bs));
  s.name = "web";
  s.protocol = Protocol::tcp;
  return s;
}

TEST(NatTcp, ConnectionsReachTheBackendWhichSeesTheClient) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b("127.0.32.71", "b1");
  auto e = start(tcp_service("127.0.32.7", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ((*e)->stats(0).forwarding, "nat");
  const Endpoint vip = ep("127.0.32.7", kPort);
  TcpClient c("127.0.32.100", vip);
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c.peer(), vip.to_string());
  EXPECT_EQ(c.ask("hello"), "b1 hello " + c.self().to_string());
  EXPECT_EQ(c.ask("again"), "b1 again " + c.self().to_string());
  auto st = (*e)->stats(0);
  EXPECT_EQ(st.backends[0].connections, 1u);
  EXPECT_EQ(st.kernel_connections, 1u);
  EXPECT_GE(st.bytes_in, 10u);  // TCP may send a segment again; each passing counts
  EXPECT_EQ(st.active, 0u);     // the threads never saw it
}

// 64 MiB up through the translation (large segments on loopback, their checksums rewritten),
// counted by the backend to the byte.
TEST(NatTcp, ABulkUploadArrivesWhole) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b("127.0.32.81", "b1", false);
  auto e = start(tcp_service("127.0.32.8", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  TcpClient c("127.0.32.100", ep("127.0.32.8", kPort));
  ASSERT_TRUE(c.connected());
  std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(write_all(c.fd(), chunk));
  ::shutdown(c.fd(), SHUT_WR);
  EXPECT_EQ(read_all(c.fd()), "b1 read " + std::to_string(64u << 20));
  // The program counts what passes it, so a retransmitted segment counts twice.
  EXPECT_GE((*e)->stats(0).bytes_in, 64u << 20);
}

TEST(NatTcp, AConnectionKeepsItsBackendAndNewOnesAvoidAnUnhealthyOne) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b1("127.0.32.91", "b1"), b2("127.0.32.92", "b2");
  auto e = start(tcp_service("127.0.32.9", {{b1.endpoint(), 1}, {b2.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.9", kPort);
  std::vector<std::unique_ptr<TcpClient>> open;
  std::map<std::string, int> by;
  for (int i = 0; i < 24; ++i) {
    open.push_back(std::make_unique<TcpClient>("127.0.32.100", vip));
    ASSERT_TRUE(open.back()->connected());
    ++by[open.back()->ask("a").substr(0, 2)];
  }
  // Round robin on each CPU: an even split, within a connection per CPU.
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_NEAR(by["b1"], 12, cpus);
  EXPECT_NEAR(by["b2"], 12, cpus);
  (*e)->set_backend_health(0, 1, false);
  int kept = 0;
  for (auto& c : open) kept += c->ask("b").substr(0, 2) == "b2";
  EXPECT_EQ(kept, by["b2"]) << "open connections stay with the backend they started on";
  for (int i = 0; i < 8; ++i) {
    TcpClient c("127.0.32.100", vip);
    EXPECT_EQ(c.ask("c").substr(0, 2), "b1");
  }
}

// The operator's word at run time, on the translation path: a drained backend keeps its
// open connections and gets no new one; a weight moves the split of new ones; ready and the
// configured weight bring it back.
TEST(NatTcp, RuntimeDrainAndWeightSteerNewConnectionsAndKeepOpenOnes) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b1("127.0.32.121", "b1"), b2("127.0.32.122", "b2");
  auto e = start(tcp_service("127.0.32.12", {{b1.endpoint(), 1}, {b2.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.12", kPort);
  std::vector<std::unique_ptr<TcpClient>> open;
  std::map<std::string, int> by;
  for (int i = 0; i < 16; ++i) {
    open.push_back(std::make_unique<TcpClient>("127.0.32.100", vip));
    ASSERT_TRUE(open.back()->connected());
    ++by[open.back()->ask("a").substr(0, 2)];
  }
  ASSERT_GT(by["b2"], 0);
  (*e)->set_backend_admin(0, 1, AdminState::drain);
  EXPECT_EQ((*e)->stats(0).backends[1].admin, AdminState::drain);
  EXPECT_TRUE((*e)->stats(0).backends[1].healthy) << "its checks still pass";
  int kept = 0;
  for (auto& c : open) kept += c->ask("b").substr(0, 2) == "b2";
  EXPECT_EQ(kept, by["b2"]) << "open connections stay with the drained backend";
  for (int i = 0; i < 8; ++i) {
    TcpClient c("127.0.32.100", vip);
    EXPECT_EQ(c.ask("c").substr(0, 2), "b1");
  }
  // Ready again, but at weight 0: still no new connection.
  (*e)->set_backend_admin(0, 1, AdminState::ready);
  (*e)->set_backend_weight(0, 1, 0);
  for (int i = 0; i < 8; ++i) {
    TcpClient c("127.0.32.100", vip);
    EXPECT_EQ(c.ask("d").substr(0, 2), "b1");
  }
  (*e)->set_backend_weight(0, 1, 1);
  std::map<std::string, int> back;
  for (int i = 0; i < 16; ++i) {
    TcpClient c("127.0.32.100", vip);
    ++back[c.ask("e").substr(0, 2)];
  }
  EXPECT_GT(back["b2"], 0) << "at its weight again, it gets new connections";
}

// With none healthy the SYN reaches the service's own socket, and the threads refuse the
// connection at once, as on the user-space path.
TEST(NatTcp, NoHealthyBackendIsRefusedByTheThreads) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b("127.0.32.101", "b1");
  auto e = start(tcp_service("127.0.32.10", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  (*e)->set_backend_health(0, 0, false);
  TcpClient c("127.0.32.100", ep("127.0.32.10", kPort));
  EXPECT_EQ(c.ask("a"), "");
  EXPECT_EQ((*e)->stats(0).refused, 1u);
}

// A flood of new flows from raw packets: `flows` UDP flows of two datagrams each (a query and
// its retry) from 127.0.40.0/24 to `vip`, each from a source port of its own, as a busy DNS
// VIP sees them. One raw socket and sendmmsg keep it to a second or two.
void udp_flood(const Endpoint& vip, uint32_t flows) {
  int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  ASSERT_GE(fd, 0);
  struct Packet {
    iphdr ip;
    udphdr udp;
    char payload[4];
  };
  constexpr size_t kBatch = 512;
  std::vector<Packet> packets(kBatch);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(vip.address.v4_value());
  uint32_t sent = 0;
  for (uint32_t f = 0; f < flows;) {
    size_t n = 0;
    for (; n < kBatch && f < flows; n += 2, ++f) {
      for (size_t copy = 0; copy < 2; ++copy) {
        auto& p = packets[n + copy];
        p = {};
        p.ip.version = 4;
        p.ip.ihl = 5;
        p.ip.ttl = 64;
        p.ip.protocol = IPPROTO_UDP;
        p.ip.tot_len = htons(sizeof p);
        p.ip.saddr = htonl((127u << 24) | (40u << 16) | ((f / 50000) << 8) | 1u);
        p.ip.daddr = to.sin_addr.s_addr;
        p.udp.source = htons(static_cast<uint16_t>(10000 + f % 50000));
        p.udp.dest = htons(vip.port);
        p.udp.len = htons(sizeof p.udp + sizeof p.payload);
        iov[n + copy] = {&p, sizeof p};
        msgs[n + copy] = {};
        msgs[n + copy].msg_hdr.msg_name = &to;
        msgs[n + copy].msg_hdr.msg_namelen = sizeof to;
        msgs[n + copy].msg_hdr.msg_iov = &iov[n + copy];
        msgs[n + copy].msg_hdr.msg_iovlen = 1;
      }
    }
    for (size_t at = 0; at < n;) {
      int k = ::sendmmsg(fd, msgs.data() + at, static_cast<unsigned>(n - at), 0);
      ASSERT_GT(k, 0) << std::strerror(errno);
      at += static_cast<size_t>(k);
      sent += static_cast<uint32_t>(k);
    }
  }
  ::close(fd);
  EXPECT_EQ(sent, 2 * flows);
}

ProxyConfig two_services(ServiceConfig a, ServiceConfig b) {
  ProxyConfig cfg;
  cfg.threads = 1;
  cfg.services = {std::move(a), std::move(b)};
  return cfg;
}

// The churn: an idle established connection through a round-robin service (so that
// nothing but its entry knows its backend) while three times the tables' size of short UDP
// flows pass the same VIP. It must answer afterwards, not be reset.
TEST(NatTcp, AnEstablishedConnectionOutlivesAFloodOfNewFlows) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b1("127.0.32.131", "b1"), b2("127.0.32.132", "b2");
  // The flood's backend reads nothing: its datagrams are dropped once its buffer is full.
  auto sink = bound_udp(ep("127.0.32.133", 0));
  auto web = tcp_service("127.0.32.13", {{b1.endpoint(), 1}, {b2.endpoint(), 1}});
  auto dns = udp_service("127.0.32.13", {{sink.endpoint, 1}});
  auto e = Engine::start(two_services(web, dns));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.13", kPort);
  TcpClient c("127.0.32.100", vip);
  ASSERT_TRUE(c.connected());
  const std::string first = c.ask("a");
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(eventually([&] { return (*e)->stats(0).nat.established == 1; }, 10s))
      << "the connection's entry moves to the connection table once both sides spoke";
  udp_flood(vip, 3 * KernelNat::kMinFlows);
  EXPECT_EQ(c.ask("b").substr(0, 2), first.substr(0, 2)) << "reset, or moved to another backend";
  EXPECT_TRUE(eventually([&] { return (*e)->stats(1).nat.opening > 1000; }, 10s))
      << "the flood filled the cache of opening flows: " << (*e)->stats(1).nat.opening;
  EXPECT_EQ((*e)->stats(1).nat.established, 0u) << "unanswered flows never become established";
  // Three times the cache's size entered it: about two thirds were forgotten.
  EXPECT_TRUE(eventually(
      [&] {
        auto t = (*e)->stats(1).nat;
        return t.evicted + t.opening == 3 * KernelNat::kMinFlows && t.evicted > t.opening;
      },
      10s))
      << "evicted " << (*e)->stats(1).nat.evicted << ", opening " << (*e)->stats(1).nat.opening;
  ::close(sink.fd);
}

// Deletes every entry of the connection tables of every nat program on the machine, as a
// restart without its tables would leave an open connection: only this test's flows use the
// addresses it deletes.
int forget(const Endpoint& client) {
  int forgotten = 0;
  for (uint32_t id = 0; bpf_map_get_next_id(id, &id) == 0;) {
    int fd = bpf_map_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
        (std::string(info.name) == "conns" || std::string(info.name) == "flows") &&
        info.key_size == sizeof(nat_flow_key)) {
      nat_flow_key k{}, next{};
      std::vector<nat_flow_key> mine;
      for (const void* at = nullptr; bpf_map_get_next_key(fd, at, &next) == 0; at = &k) {
        k = next;
        if (k.client_addr == htonl(client.address.v4_value()) &&
            k.client_port == htons(client.port))
          mine.push_back(k);
      }
      for (auto& m : mine) forgotten += bpf_map_delete_elem(fd, &m) == 0;
    }
    ::close(fd);
  }
  return forgotten;
}

// A UDP flow whose entry was forgotten (a flood churned the cache, or a restart without the
// tables) starts again on its next datagram, and its answer still comes from the VIP.
TEST(NatUdp, AFlowWhoseEntryWasForgottenStillAnswersFromTheVip) {
  SKIP_WITHOUT_ROOT();
  UdpEcho b("127.0.32.61", "b1");
  auto e = start(udp_service("127.0.32.60", {{b.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.60", kPort);
  UdpClient c("127.0.32.100");
  EXPECT_EQ(c.ask(vip, "a").second, vip.to_string());
  ASSERT_GE(forget(c.self()), 1);
  EXPECT_EQ(c.ask(vip, "b"), std::make_pair("b1 b " + c.self().to_string(), vip.to_string()));
}

// A maglev service's connection whose entry is gone (a restart without the tables, or one
// that came through another NVA) goes on to the backend the table gives its client, the one
// it started on, and gets its entry again.
TEST(NatTcp, AMaglevConnectionWithoutAnEntryIsTakenOver) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b1("127.0.32.141", "b1"), b2("127.0.32.142", "b2"), b3("127.0.32.143", "b3");
  auto svc =
      tcp_service("127.0.32.14", {{b1.endpoint(), 1}, {b2.endpoint(), 1}, {b3.endpoint(), 1}});
  svc.balance = Balance::maglev;
  svc.hash = HashOn::five_tuple;
  auto e = start(svc);
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.14", kPort);
  std::vector<std::unique_ptr<TcpClient>> open;
  std::vector<std::string> on;
  for (int i = 0; i < 12; ++i) {
    open.push_back(std::make_unique<TcpClient>("127.0.32.100", vip));
    ASSERT_TRUE(open.back()->connected());
    on.push_back(open.back()->ask("a").substr(0, 2));
  }
  for (auto& c : open) ASSERT_GE(forget(c->self()), 1);
  for (size_t i = 0; i < open.size(); ++i)
    EXPECT_EQ(open[i]->ask("b").substr(0, 2), on[i]) << "connection " << i;
  EXPECT_EQ((*e)->stats(0).nat.takeovers, open.size());
  // Taken over once: the entry is back, and the next segment needs no table.
  for (auto& c : open) EXPECT_FALSE(c->ask("c").empty());
  EXPECT_EQ((*e)->stats(0).nat.takeovers, open.size());
}

// Round robin cannot find a lost connection's backend again: its segment goes up the stack,
// which resets it, as before connection tracking. Only maglev takes connections over.
TEST(NatTcp, ARoundRobinConnectionWithoutAnEntryIsReset) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b1("127.0.32.151", "b1");
  auto e = start(tcp_service("127.0.32.15", {{b1.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  TcpClient c("127.0.32.100", ep("127.0.32.15", kPort));
  ASSERT_TRUE(c.connected());
  ASSERT_FALSE(c.ask("a").empty());
  ASSERT_GE(forget(c.self()), 1);
  EXPECT_EQ(c.ask("b"), "");
  EXPECT_EQ((*e)->stats(0).nat.takeovers, 0u);
}

// An entry's life follows its connection: established once both sides spoke, closing after a
// FIN, and forgotten after its state's timeout (a UDP flow's is the service's idle-timeout).
TEST(NatTcp, EntriesFollowTheirConnectionAndExpire) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b1("127.0.32.171", "b1");
  UdpEcho u1("127.0.32.172", "u1");
  auto web = tcp_service("127.0.32.17", {{b1.endpoint(), 1}});
  auto dns = udp_service("127.0.32.17", {{u1.endpoint(), 1}});
  dns.idle_timeout = std::chrono::milliseconds(100);
  auto e = Engine::start(two_services(web, dns));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.17", kPort);
  {
    TcpClient c("127.0.32.100", vip);
    ASSERT_FALSE(c.ask("a").empty());
    EXPECT_TRUE(eventually([&] { return (*e)->stats(0).nat.established == 1; }, 10s));
    EXPECT_EQ((*e)->stats(0).nat.opening, 0u);
  }
  EXPECT_TRUE(eventually(
      [&] {
        auto t = (*e)->stats(0).nat;
        return t.closing == 1 && t.established == 0;
      },
      10s))
      << "closed: " << (*e)->stats(0).nat.closing;
  UdpClient q("127.0.32.100");
  EXPECT_EQ(q.ask(vip, "q").second, vip.to_string());
  EXPECT_TRUE(eventually([&] { return (*e)->stats(1).nat.expired == 1; }, 10s));
  EXPECT_EQ((*e)->stats(1).nat.opening + (*e)->stats(1).nat.established, 0u);
}

// A reload's new backends under the running program: open flows keep their backends (the
// removed one's too: the kernel's flows are not closed), new ones follow the new table.
TEST(NatTcp, AReloadChangesBackendsUnderTheRunningProgram) {
  SKIP_WITHOUT_ROOT();
  TcpEcho b1("127.0.32.181", "b1"), b2("127.0.32.182", "b2"), b3("127.0.32.183", "b3");
  auto e = start(tcp_service("127.0.32.18", {{b1.endpoint(), 1}, {b2.endpoint(), 1}}));
  ASSERT_TRUE(e) << e.error();
  const Endpoint vip = ep("127.0.32.18", kPort);
  std::vector<std::unique_ptr<TcpClient>> open;
  std::vector<std::string> on;
  for (int i = 0; i < 8; ++i) {
    open.push_back(std::make_unique<TcpClient>("127.0.32.100", vip));
    ASSERT_TRUE(open.back()->connected());
    on.push_back(open.back()->ask("a").substr(0, 2));
  }
  auto c = (*e)->reconfigure_backends(0, {{b2.endpoint(), 1, {}}, {b3.endpoint(), 1, {}}});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->added.size(), 1u);
  EXPECT_EQ(c->removed.size(), 1u);
  for (size_t i = 0; i < open.size(); ++i)
    EXPECT_EQ(open[i]->ask("b").substr(0, 2), on[i]) << "connection " << i;
  std::map<std::string, int> fresh;
  for (int i = 0; i < 16; ++i) {
    TcpClient n("127.0.32.100", vip);
    ++fresh[n.ask("c").substr(0, 2)];
  }
  EXPECT_EQ(fresh["b1"], 0);
  EXPECT_GT(fresh["b2"], 0);
  EXPECT_GT(fresh["b3"], 0);
  EXPECT_TRUE((*e)->stats(0).backends[0].removed);
}

// A private bpf filesystem for one test, unmounted with it.
class BpfFs {
 public:
  BpfFs() {
    char tmpl[] = "/tmp/acd-bpffs-XXXXXX";
    if (::mkdtemp(tmpl)) dir_ = tmpl;
    mounted_ = !dir_.empty() && std::system(("mount -t bpf bpf " + dir_).c_str()) == 0;
  }
  ~BpfFs() {
    if (mounted_) std::system(("umount " + dir_).c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  bool mounted() const { return mounted_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// anycastd restarted: the engine goes (its programs with it) and another starts with the
// same configuration. Its tables were pinned, so the next one adopts them and a round-robin
// connection, which only its entry can place, goes on.
TEST(NatTcp, ARestartThatAdoptsTheTablesKeepsOpenConnections) {
  SKIP_WITHOUT_ROOT();
  BpfFs fs;
  ASSERT_TRUE(fs.mounted());
  TcpEcho b1("127.0.32.161", "b1"), b2("127.0.32.162", "b2");
  auto svc = tcp_service("127.0.32.16", {{b1.endpoint(), 1}, {b2.endpoint(), 1}});
  ProxyConfig cfg;
  cfg.threads = 1;
  cfg.services = {svc};
  cfg.nat_state = fs.dir() + "/anycastd/test";
  const Endpoint vip = ep("127.0.32.16", kPort);
  std::vector<std::string> told;
  auto notice = [&](bool, const std::string& what) { told.push_back(what); };
  std::vector<std::unique_ptr<TcpClient>> open;
  std::vector<std::string> on;
  {
    auto e = Engine::start(cfg, nullptr, notice);
    ASSERT_TRUE(e) << e.error();
    for (int i = 0; i < 8; ++i) {
      open.push_back(std::make_unique<TcpClient>("127.0.32.100", vip));
      ASSERT_TRUE(open.back()->connected());
      on.push_back(open.back()->ask("a").substr(0, 2));
    }
  }
  auto e = Engine::start(cfg, nullptr, notice);
  ASSERT_TRUE(e) << e.error();
  ASSERT_FALSE(told.empty());
  EXPECT_NE(told.back().find("adopted 8 established"), std::string::npos) << told.back();
  for (size_t i = 0; i < open.size(); ++i)
    EXPECT_EQ(open[i]->ask("b").substr(0, 2), on[i]) << "connection " << i;
  EXPECT_EQ((*e)->stats(0).nat.takeovers, 0u);
  // Another size of table (max-connections changed) is not adopted, and says so.
  e->reset();
  cfg.services[0].max_connections = 100000;
  auto fresh = Engine::start(cfg, nullptr, notice);
  ASSERT_TRUE(fresh) << fresh.error();
  EXPECT_NE(told.back().find("started afresh"), std::string::npos) << told.back();
  // Another layout's tables (an older package's) are not adopted, and are removed.
  fresh->reset();
  const std::string old = cfg.nat_state + "/v0";
  ASSERT_EQ(::mkdir(old.c_str(), 0700), 0);
  int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "conns", 4, 4, 1, nullptr);
  ASSERT_GE(map, 0);
  ASSERT_EQ(bpf_obj_pin(map, (old + "/conns").c_str()), 0);
  ::close(map);
  auto upgraded = Engine::start(cfg, nullptr, notice);
  ASSERT_TRUE(upgraded) << upgraded.error();
  bool said = false;
  for (const auto& t : told) said |= t.find("another layout (" + old + ")") != std::string::npos;
  EXPECT_TRUE(said) << told.back();
  EXPECT_NE(::access(old.c_str(), F_OK), 0) << "the old layout's directory is still there";
}

}  // namespace
