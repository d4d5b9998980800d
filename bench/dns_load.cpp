// A DNS load generator for proxy benchmarks: keeps `--window` queries for one name in
// flight for `--seconds` from `--sockets` UDP sockets (each a client address: a proxy's
// SO_REUSEPORT threads split clients, never one client), and reports answers per second
// and latency.
// A query unanswered after 200 ms counts as lost and its slot is reused.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <vector>

#include "proxy/socket_ops.hpp"

using namespace anycastd;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  CLI::App app{"dns_load: UDP DNS query load"};
  std::string address = "127.0.0.1";
  uint16_t port = 53;
  double seconds = 5;
  unsigned window = 32, sockets = 1;
  app.add_option("--address", address);
  app.add_option("--port", port);
  app.add_option("--seconds", seconds)->check(CLI::Range(0.1, 120.0));
  app.add_option("--window", window)->check(CLI::Range(1, 1024));
  app.add_option("--sockets", sockets)->check(CLI::Range(1, 256));
  CLI11_PARSE(app, argc, argv);
  auto at = IpAddress::parse(address);
  if (!at) return 2;
  std::vector<pollfd> fds;
  auto sa = proxy::to_sockaddr({*at, port});
  for (unsigned i = 0; i < sockets; ++i) {
    int fd = socket(at->is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, sa.get(), sa.length) < 0) return 1;
    fds.push_back({fd, POLLIN, 0});
  }
  // app.example A, with the ID in the first two bytes.
  unsigned char q[] = {0,   0, 1,   0,   0,   1,   0,   0,   0,   0, 0, 0, 3, 'a', 'p',
                       'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
  std::vector<Clock::time_point> sent(65536);
  std::vector<bool> out(65536);
  std::vector<double> lat;
  uint16_t next = 0;
  unsigned in_flight = 0;
  uint64_t lost = 0;
  auto send_one = [&] {
    q[0] = static_cast<unsigned char>(next >> 8);
    q[1] = static_cast<unsigned char>(next);
    int fd = fds[next % fds.size()].fd;
    if (send(fd, q, sizeof q, 0) == static_cast<ssize_t>(sizeof q)) {
      sent[next] = Clock::now();
      out[next] = true;
      ++in_flight;
    }
    ++next;
  };
  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  uint16_t oldest = 0;
  unsigned char buf[512];
  while (Clock::now() < end) {
    while (in_flight < window) send_one();
    poll(fds.data(), fds.size(), 10);
    for (size_t i = 0; i < fds.size();) {
      ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
      if (n < 2) {
        ++i;
        continue;
      }
      uint16_t id = static_cast<uint16_t>((buf[0] << 8) | buf[1]);
      if (!out[id]) continue;
      out[id] = false;
      --in_flight;
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent[id]).count());
    }
    auto now = Clock::now();
    while (oldest != next &&
           (!out[oldest] || now - sent[oldest] > std::chrono::milliseconds(200))) {
      if (out[oldest]) {
        out[oldest] = false;
        --in_flight;
        ++lost;
      }
      ++oldest;
    }
  }
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0 : lat[static_cast<size_t>(p * (lat.size() - 1))];
  };
  printf("answers %zu lost %lu qps %.0f p50_us %.0f p99_us %.0f\n", lat.size(),
         static_cast<unsigned long>(lost), lat.size() / took, pct(0.5), pct(0.99));
  for (auto& p : fds) close(p.fd);
}
