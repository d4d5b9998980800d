// The sender of bench/ingest: two BGP sessions to the router under test, one that feeds a
// full-table-sized load and one that collects what the router re-advertises. It times
// propagation (until the collector holds every prefix) and withdraw-all (until it holds
// none), and reads the router's resident memory, so BIRD, GoBGP and anycastd are measured
// by the same sender in the same way.
//   bgp_blaster --target ADDR:PORT --feeder ADDR --collector ADDR [--prefixes N]
//               [--paths K] [--pid PID] [--timeout S]
// Prints "start MONO" (CLOCK_MONOTONIC seconds, when the first UPDATE goes out) and, at
// the end, one JSON line of results.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "wire/codec.hpp"
#include "wire/packer.hpp"

using namespace anycastd;
using namespace anycastd::bgp;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bgp_blaster: %s\n", why.c_str());
  std::exit(1);
}

double mono() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

constexpr uint32_t kBase = 0x01000000;  // prefixes are 1.0.0.0/24, 1.0.1.0/24, ...

// One BGP session over a blocking socket: enough to handshake, send and read messages.
class Conn {
 public:
  Conn(const std::string& local, const std::string& host, uint16_t port, uint32_t asn,
       uint32_t id) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, local.c_str(), &a.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
      die("bind " + local + ": " + std::strerror(errno));
    a.sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
      die("connect " + host + ":" + std::to_string(port) + " from " + local + ": " +
          std::strerror(errno));
    Open o;
    o.my_as = static_cast<uint16_t>(asn < 65536 ? asn : 23456);
    o.hold_time = 240;
    o.bgp_id = id;
    o.caps.multiprotocol = {AfiSafi{}};
    o.caps.four_octet_as = asn;
    o.caps.route_refresh = true;
    send(encode(o, opts_));
    bool open = false, ka = false;
    while (!(open && ka)) {
      auto m = read(30000);
      if (!m) die("no OPEN/KEEPALIVE from " + host + " within 30 s on session from " + local);
      if (std::holds_alternative<Open>(*m)) {
        open = true;
        send(encode(Keepalive{}, opts_));
      } else if (std::holds_alternative<Keepalive>(*m)) {
        ka = open;
      } else if (auto* n = std::get_if<Notification>(&*m)) {
        die("NOTIFICATION " + n->to_string() + " from " + host + " on session from " + local);
      }
    }
    last_keepalive_ = Clock::now();
  }
  ~Conn() {
    send(encode(Notification{6, 2, {}}, opts_));
    ::close(fd_);
  }

  void send(const Bytes& b) {
    size_t off = 0;
    while (off < b.size()) {
      ssize_t n = ::write(fd_, b.data() + off, b.size() - off);
      if (n <= 0) die(std::string("write: ") + std::strerror(errno));
      off += static_cast<size_t>(n);
    }
  }
  void keepalive_if_due() {
    if (Clock::now() - last_keepalive_ < std::chrono::seconds(30)) return;
    send(encode(Keepalive{}, opts_));
    last_keepalive_ = Clock::now();
  }

  // The next message, or nullopt after timeout_ms without one.
  std::optional<Message> read(int timeout_ms) {
    for (;;) {
      auto len = frame_length({buf_.data() + pos_, buf_.size() - pos_}, opts_);
      if (!len) die("bad frame: " + len.error().reason);
      if (*len && buf_.size() - pos_ >= **len) {
        auto m = decode({buf_.data() + pos_, **len}, opts_);
        pos_ += **len;
        if (!m) die("bad message: " + m.error().reason);
        return std::move(*m);
      }
      if (pos_ > (1 << 20)) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(pos_));
        pos_ = 0;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
      std::byte tmp[1 << 16];
      ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) die("session closed by the router under test");
      buf_.insert(buf_.end(), tmp, tmp + n);
    }
  }

 private:
  int fd_ = -1;
  CodecOptions opts_;
  Bytes buf_;
  size_t pos_ = 0;
  Clock::time_point last_keepalive_;
};

// Holds which of the N prefixes the collector has, as announced minus withdrawn.
struct Collector {
  std::vector<bool> have;
  std::atomic<uint32_t> count{0};
  std::atomic<double> t_full{0}, t_empty{0};
  std::atomic<bool> withdrawing{false}, stop{false};

  void run(Conn& c, uint32_t n) {
    have.assign(n, false);
    while (!stop) {
      c.keepalive_if_due();
      auto m = c.read(200);
      if (!m) continue;
      auto* u = std::get_if<Update>(&*m);
      if (!u) continue;
      for (const auto& p : u->withdrawn_all()) mark(p, false);
      for (const auto& p : u->announced()) mark(p, true);
      uint32_t k = count;
      if (k == have.size() && t_full == 0) t_full = mono();
      if (k == 0 && withdrawing && t_empty == 0) t_empty = mono();
    }
  }
  void mark(const Prefix& p, bool on) {
    if (!p.address().is_v4() || p.length() != 24) return;
    uint32_t i = (p.address().v4_value() - kBase) >> 8;
    if (i >= have.size() || have[i] == on) return;
    have[i] = on;
    on ? ++count : --count;
  }
};

void wait_for(const std::atomic<double>& t, double deadline, const char* what) {
  while (t == 0) {
    if (mono() > deadline) die(std::string("timed out waiting for ") + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bgp_blaster: full-table feed and collection for bench/ingest"};
  std::string target, feeder_addr, collector_addr;
  uint32_t prefixes = 1000000, paths = 100000, feeder_as = 65515, collector_as = 65020;
  int pid = 0;
  double timeout = 600;
  app.add_option("--target", target, "router under test, ADDR:PORT")->required();
  app.add_option("--feeder", feeder_addr, "local address of the feeding session")->required();
  app.add_option("--collector", collector_addr, "local address of the collecting session")
      ->required();
  app.add_option("--prefixes", prefixes, "IPv4 /24s to send");
  app.add_option("--paths", paths, "distinct AS paths among them");
  std::string next_hop = "198.18.8.2";
  app.add_option("--next-hop", next_hop,
                 "NEXT_HOP of the fed routes (GoBGP drops 127.x ones; nothing is sent to it)");
  app.add_option("--feeder-as", feeder_as);
  app.add_option("--collector-as", collector_as);
  app.add_option("--pid", pid, "router process whose resident memory is reported");
  app.add_option("--timeout", timeout, "seconds allowed for each phase");
  CLI11_PARSE(app, argc, argv);
  auto colon = target.rfind(':');
  if (colon == std::string::npos) die("--target must be ADDR:PORT");
  std::string host = target.substr(0, colon);
  auto port = static_cast<uint16_t>(std::stoi(target.substr(colon + 1)));
  if (paths == 0 || paths > prefixes) die("--paths must be between 1 and --prefixes");

  // Built before the clock starts: the router is measured, not the sender's encoder.
  CodecOptions opts;
  auto nh = IpAddress::parse(next_hop);
  if (!nh || !nh->is_v4()) die("--next-hop must be an IPv4 address");
  std::vector<std::vector<Prefix>> groups(paths);
  for (uint32_t i = 0; i < prefixes; ++i)
    groups[i % paths].push_back(Prefix(IpAddress::v4(kBase + i * 256u), 24));
  Bytes announce, withdraw;
  for (uint32_t k = 0; k < paths; ++k) {
    PathAttributes a;
    a.origin = kOriginIgp;
    AsPath p;
    p.segments.push_back(
        {kAsSequence, {feeder_as, 64512 + k % 400, 4200000000u + k, 13335 + k % 7}});
    a.as_path = std::move(p);
    if (k % 3 == 0) a.communities = {(65515u << 16) | (k % 100)};
    auto packed = pack_announce(a, *nh, groups[k], opts);  // kept: the loop reads into it
    if (!packed) die(packed.error());
    for (auto& m : *packed) announce.insert(announce.end(), m.begin(), m.end());
    for (auto& m : pack_withdraw(groups[k], opts))
      withdraw.insert(withdraw.end(), m.begin(), m.end());
  }
  auto eor = end_of_rib(AfiSafi{}, opts);
  announce.insert(announce.end(), eor.begin(), eor.end());
  groups.clear();

  Conn collector(collector_addr, host, port, collector_as, 0xC6120003);
  Conn feeder(feeder_addr, host, port, feeder_as, 0xC6120002);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let the router settle
  long rss_before = pid ? rss_kib(pid) : -1;

  Collector col;
  std::thread ct([&] { col.run(collector, prefixes); });
  // The feeding session only hears KEEPALIVEs: drain them so its buffer never fills.
  std::atomic<bool> stop_drain{false};
  std::thread dt([&] {
    while (!stop_drain) {
      feeder.keepalive_if_due();
      feeder.read(200);
    }
  });

  double t0 = mono();
  std::printf("start %.6f\n", t0);
  std::fflush(stdout);
  feeder.send(announce);
  double t_sent = mono();
  wait_for(col.t_full, t0 + timeout, "the collector to hold every prefix");
  std::this_thread::sleep_for(std::chrono::seconds(2));  // settle before reading memory
  long rss_after = pid ? rss_kib(pid) : -1;

  col.withdrawing = true;
  double t1 = mono();
  feeder.send(withdraw);
  wait_for(col.t_empty, t1 + timeout, "the collector to hold no prefix");

  col.stop = true;
  stop_drain = true;
  ct.join();
  dt.join();
  std::printf(
      "{\"prefixes\": %u, \"paths\": %u, \"sent_s\": %.3f, \"propagated_s\": %.3f, "
      "\"withdrawn_s\": %.3f, \"rss_before_kib\": %ld, \"rss_after_kib\": %ld, "
      "\"bytes_sent\": %zu}\n",
      prefixes, paths, t_sent - t0, col.t_full - t0, col.t_empty - t1, rss_before, rss_after,
      announce.size());
  return 0;
}
