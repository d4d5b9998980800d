// An open-loop HTTP/1.1 keep-alive load generator: sends `--rate` requests a second, on a
// fixed schedule, over `--connections` connections split between `--threads` threads, and
// reports the latency of each request from the moment the schedule says it was due.
//
// wrk runs a closed loop: a connection sends its next request only when the last is answered,
// so a target that stalls is simply offered less, and the stall reaches few samples. Here a
// request that finds every connection busy waits in a queue, and that wait counts, so the
// figure is what a client arriving at that rate would see. It also lets two targets be
// compared at the same offered load, where wrk compares each at its own saturation.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "proxy/socket_ops.hpp"

using namespace anycastd;
using Clock = std::chrono::steady_clock;
using std::chrono::nanoseconds;

namespace {

struct Settings {
  proxy::SockAddr to;
  double rate = 0;  // per thread
  Clock::time_point start, record_from, end, give_up;
  unsigned connections = 0;
  nanoseconds tick{0};
};

struct Tally {
  std::vector<uint32_t> latency_ns;
  // in_time: answers that arrived within the measured time, which is what a target kept up.
  uint64_t sent = 0, in_time = 0, unanswered = 0, errors = 0, not_ok = 0;
};

struct Conn {
  int fd = -1;
  bool busy = false;
  Clock::time_point due;
  std::string in;
};

// One response off the front of `in`: its length, 0 if incomplete, -1 if it cannot be parsed.
long response_length(const std::string& in) {
  auto head = in.find("\r\n\r\n");
  if (head == std::string::npos) return 0;
  static const char kLength[] = "content-length:";
  long body = 0;
  for (size_t i = 0; i + sizeof kLength - 1 <= head; ++i) {
    if (strncasecmp(in.data() + i, kLength, sizeof kLength - 1) == 0) {
      body = strtol(in.data() + i + sizeof kLength - 1, nullptr, 10);
      break;
    }
  }
  if (body < 0) return -1;
  size_t total = head + 4 + static_cast<size_t>(body);
  return in.size() >= total ? static_cast<long>(total) : 0;
}

int open_connection(const proxy::SockAddr& to) {
  int fd = socket(to.get()->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, to.get(), to.length) < 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void run(const Settings& s, unsigned offset, unsigned threads, Tally& r) {
  static const char kRequest[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
  std::vector<Conn> conns(s.connections);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<size_t> idle;
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = open_connection(s.to);
    if (conns[i].fd < 0) {
      ++r.errors;
      continue;
    }
    epoll_event ev{EPOLLIN, {.u64 = i}};
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    idle.push_back(i);
  }
  const auto interval = nanoseconds(static_cast<int64_t>(1e9 / s.rate));
  // Threads start staggered so that their schedules interleave.
  auto next = s.start + interval * offset / threads;
  std::deque<Clock::time_point> waiting;
  size_t in_flight = 0;
  auto send_to = [&](size_t i, Clock::time_point due) {
    Conn& c = conns[i];
    if (send(c.fd, kRequest, sizeof kRequest - 1, MSG_NOSIGNAL) !=
        static_cast<ssize_t>(sizeof kRequest - 1)) {
      ++r.errors;
      close(c.fd);
      c.fd = -1;
      return;
    }
    c.busy = true;
    c.due = due;
    ++r.sent;
    ++in_flight;
  };
  epoll_event events[256];
  char buf[16384];
  for (;;) {
    auto now = Clock::now();
    for (; next <= now && next < s.end; next += interval) waiting.push_back(next);
    while (!waiting.empty() && !idle.empty()) {
      size_t i = idle.back();
      idle.pop_back();
      send_to(i, waiting.front());
      waiting.pop_front();
    }
    bool scheduling = next < s.end;
    if (!scheduling && waiting.empty() && in_flight == 0) break;
    if (now >= s.give_up) break;
    // Requests due within a tick go out together: one wake-up each would cost the machine
    // more than wrk spends per request. Their wait still counts.
    auto until = scheduling ? std::max(next, now + s.tick) : s.give_up;
    if (!waiting.empty() && idle.empty())
      until = std::min(until, now + std::chrono::milliseconds(1));
    auto wait = std::max(nanoseconds(0), std::chrono::duration_cast<nanoseconds>(until - now));
    timespec ts{static_cast<time_t>(wait.count() / 1000000000),
                static_cast<long>(wait.count() % 1000000000)};
    int n = epoll_pwait2(ep, events, 256, &ts, nullptr);
    now = Clock::now();
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u64];
      if (c.fd < 0) continue;
      ssize_t got = recv(c.fd, buf, sizeof buf, 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        ++r.errors;
        if (c.busy) --in_flight;
        close(c.fd);
        c.fd = -1;
        continue;
      }
      c.in.append(buf, static_cast<size_t>(got));
      for (long len; (len = response_length(c.in)) != 0;) {
        if (len < 0 || !c.busy) {
          ++r.errors;
          c.in.clear();
          break;
        }
        if (c.in.compare(0, 12, "HTTP/1.1 200") != 0) ++r.not_ok;
        c.in.erase(0, static_cast<size_t>(len));
        c.busy = false;
        --in_flight;
        if (now >= s.record_from && now < s.end) ++r.in_time;
        if (c.due >= s.record_from)
          r.latency_ns.push_back(static_cast<uint32_t>(std::min<int64_t>(
              std::chrono::duration_cast<nanoseconds>(now - c.due).count(), UINT32_MAX)));
        idle.push_back(events[e].data.u64);
      }
    }
  }
  r.unanswered = waiting.size() + in_flight;
  for (auto& c : conns)
    if (c.fd >= 0) close(c.fd);
  close(ep);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"http_rate: open-loop HTTP keep-alive load at a fixed rate"};
  std::string address = "127.0.0.1";
  uint16_t port = 80;
  double rate = 10000, seconds = 5, warmup = 1;
  unsigned connections = 64, threads = 2, tick_us = 100;
  app.add_option("--address", address);
  app.add_option("--port", port);
  app.add_option("--rate", rate, "requests per second, all threads together")
      ->check(CLI::Range(1.0, 5e6));
  app.add_option("--seconds", seconds, "measured time")->check(CLI::Range(0.1, 120.0));
  app.add_option("--warmup", warmup, "load before the measured time")->check(CLI::Range(0.0, 30.0));
  app.add_option("--connections", connections)->check(CLI::Range(1, 10000));
  app.add_option("--tick-us", tick_us, "requests due this close together are sent together")
      ->check(CLI::Range(0, 10000));
  app.add_option("--threads", threads)->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  auto at = IpAddress::parse(address);
  if (!at) {
    fprintf(stderr, "http_rate: --address %s is not an IP address\n", address.c_str());
    return 2;
  }
  if (connections < threads) threads = connections;
  Settings s;
  s.to = proxy::to_sockaddr({*at, port});
  s.rate = rate / threads;
  s.tick = std::chrono::microseconds(tick_us);
  s.start = Clock::now() + std::chrono::milliseconds(100);  // time to connect
  s.record_from =
      s.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  s.end = s.record_from +
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  // A request still unanswered 2 s after the last was due is reported, not waited for.
  s.give_up = s.end + std::chrono::seconds(2);
  std::vector<Tally> results(threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    Settings mine = s;
    mine.connections = connections / threads + (t < connections % threads ? 1 : 0);
    workers.emplace_back([mine, t, threads, &results] { run(mine, t, threads, results[t]); });
  }
  for (auto& w : workers) w.join();
  Tally all;
  for (auto& r : results) {
    all.latency_ns.insert(all.latency_ns.end(), r.latency_ns.begin(), r.latency_ns.end());
    all.unanswered += r.unanswered;
    all.sent += r.sent;
    all.in_time += r.in_time;
    all.errors += r.errors;
    all.not_ok += r.not_ok;
  }
  auto& lat = all.latency_ns;
  std::sort(lat.begin(), lat.end());
  auto ms = [&](double p) {
    return lat.empty() ? 0.0
                       : lat[static_cast<size_t>(p * static_cast<double>(lat.size() - 1))] / 1e6;
  };
  printf(
      "offered %.0f sent %lu answered %zu rate %.0f p50_ms %.3f p90_ms %.3f p99_ms %.3f p999_ms "
      "%.3f "
      "max_ms %.3f unanswered %lu errors %lu non2xx %lu\n",
      rate, static_cast<unsigned long>(all.sent), lat.size(),
      static_cast<double>(all.in_time) / seconds, ms(0.5), ms(0.9), ms(0.99), ms(0.999), ms(1.0),
      static_cast<unsigned long>(all.unanswered), static_cast<unsigned long>(all.errors),
      static_cast<unsigned long>(all.not_ok));
  return all.errors || all.unanswered ? 1 : 0;
}
