// sockmap_probe: does forwarding an established TCP connection inside the kernel (a BPF
// sockhash with a stream verdict that redirects each side's bytes to the other) pay on this
// machine, and does a half-close still reach the far side after every byte? A measurement
// for issue 21 before the proxy grows a kernel path: one client, one backend that counts
// what it receives, and between them a forwarder in one of three modes:
//   user    read()/write() through a 64 KiB buffer (the proxy's user-space path)
//   splice  splice() through a pipe (the proxy's path for bulk)
//   kernel  both sockets in a sockhash; user space only waits for the end
// The client sends --mib MiB and half-closes; the backend counts to EOF. Reported: time,
// throughput, and whether the backend saw every byte before EOF. Loopback only.
//
// The verdict program is eight instructions, assembled here rather than compiled, so that
// the probe builds without clang's BPF target or libbpf:
//   key = bpf_get_socket_cookie(skb)             the socket the bytes arrived on
//   return bpf_sk_redirect_hash(skb, map, &key, 0)   to the socket stored under that key
// Each socket is stored under its partner's cookie, so the lookup yields the other side.
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

long bpf(int cmd, bpf_attr& a) {
  return syscall(__NR_bpf, cmd, &a, sizeof a);
}

int sockhash() {
  bpf_attr a{};
  a.map_type = BPF_MAP_TYPE_SOCKHASH;
  a.key_size = 8;
  a.value_size = 4;
  a.max_entries = 64;
  return static_cast<int>(bpf(BPF_MAP_CREATE, a));
}

int verdict(int map, std::string& log) {
  bpf_insn p[] = {
      {BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0},                  // r6 = skb
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_socket_cookie},  // r0 = cookie(skb)
      {BPF_STX | BPF_MEM | BPF_DW, 10, 0, -8, 0},                 // *(u64*)(fp-8) = r0
      {BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0},                  // r1 = skb
      {BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, map},  // r2 = map
      {0, 0, 0, 0, 0},                                            //   (second half of ld_imm64)
      {BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0},                 // r3 = fp
      {BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -8},                 // r3 = &key
      {BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0},                  // r4 = flags 0 (egress)
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_hash},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  static char buf[65536];
  bpf_attr a{};
  a.prog_type = BPF_PROG_TYPE_SK_SKB;
  a.expected_attach_type = BPF_SK_SKB_STREAM_VERDICT;
  a.insns = reinterpret_cast<uint64_t>(p);
  a.insn_cnt = sizeof p / sizeof *p;
  a.license = reinterpret_cast<uint64_t>("GPL");
  a.log_buf = reinterpret_cast<uint64_t>(buf);
  a.log_size = sizeof buf;
  a.log_level = 1;
  int fd = static_cast<int>(bpf(BPF_PROG_LOAD, a));
  log = buf;
  if (fd < 0) return fd;
  bpf_attr at{};
  at.target_fd = static_cast<uint32_t>(map);
  at.attach_bpf_fd = static_cast<uint32_t>(fd);
  at.attach_type = BPF_SK_SKB_STREAM_VERDICT;
  if (bpf(BPF_PROG_ATTACH, at) < 0) return -1;
  return fd;
}

bool put(int map, uint64_t key, int fd) {
  bpf_attr a{};
  uint32_t v = static_cast<uint32_t>(fd);
  a.map_fd = static_cast<uint32_t>(map);
  a.key = reinterpret_cast<uint64_t>(&key);
  a.value = reinterpret_cast<uint64_t>(&v);
  a.flags = BPF_ANY;
  return bpf(BPF_MAP_UPDATE_ELEM, a) == 0;
}

uint64_t cookie(int fd) {
  uint64_t c = 0;
  socklen_t len = sizeof c;
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len);
  return c;
}

int listen_on(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7f001101);  // 127.0.17.1
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(fd, 4) < 0) return -1;
  return fd;
}

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7f001101);
  return connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? fd : -1;
}

// Waits until the peer of `fd` half-closed, without reading: in kernel mode the bytes never
// reach user space (a recv says EAGAIN), but the FIN still shows as POLLRDHUP.
void wait_eof(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

// The bytes a socket received, and those its peer acknowledged of what it sent.
tcp_info info(int fd) {
  tcp_info t{};
  socklen_t len = sizeof t;
  getsockopt(fd, IPPROTO_TCP, TCP_INFO, &t, &len);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sockmap_probe: in-kernel TCP forwarding against read/write and splice"};
  std::string mode = "kernel";
  size_t mib = 1024, pingpong = 0;
  bool no_kick = false;
  app.add_option("--mode", mode)->check(CLI::IsMember({"user", "splice", "kernel"}));
  app.add_option("--mib", mib)->check(CLI::Range(1, 8192));
  app.add_option("--pingpong", pingpong,
                 "instead: this many 64-byte requests, each echoed by the backend")
      ->check(CLI::Range(1, 10000000));
  app.add_flag("--no-kick", no_kick, "kernel: leave bytes that came before the insert queued");
  CLI11_PARSE(app, argc, argv);

  if (pingpong && mode == "splice") {
    fprintf(stderr, "sockmap_probe: --pingpong runs in user or kernel mode\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int map = -1;
  if (mode == "kernel") {
    map = sockhash();
    std::string log;
    if (map < 0 || verdict(map, log) < 0) {
      fprintf(stderr, "sockmap_probe: cannot load the verdict program: %s\n%s\n", strerror(errno),
              log.c_str());
      return 1;
    }
  }
  int front = listen_on(18917), back = listen_on(18918);
  if (front < 0 || back < 0) return 1;
  const uint64_t total = pingpong ? pingpong * 64 : uint64_t{mib} << 20;
  std::atomic<uint64_t> received{0}, trips{0};
  std::atomic<int> front_fd{-1}, back_fd{-1};
  std::atomic<bool> eof_after_all{false};
  std::thread backend([&] {
    int s = accept(back, nullptr, nullptr);
    std::vector<char> buf(1 << 16);
    uint64_t got = 0;
    for (ssize_t n; (n = recv(s, buf.data(), buf.size(), 0)) != 0;) {
      if (n <= 0) continue;
      got += static_cast<uint64_t>(n);
      received = got;
      if (pingpong) send(s, buf.data(), static_cast<size_t>(n), 0);
    }
    received = got;
    eof_after_all = got == total;
    close(s);
  });
  std::thread client([&] {
    int c = connect_to(18917);
    std::vector<char> buf(1 << 16, 'x');
    for (size_t i = 0; i < pingpong; ++i) {
      send(c, buf.data(), 64, 0);
      for (size_t got = 0; got < 64;) {
        ssize_t n = recv(c, buf.data() + got, 64 - got, 0);
        if (n <= 0) return;
        got += static_cast<size_t>(n);
      }
      ++trips;
    }
    for (uint64_t sent = pingpong ? total : 0; sent < total;) {
      ssize_t n = send(c, buf.data(), std::min<uint64_t>(buf.size(), total - sent), 0);
      if (n > 0) sent += static_cast<uint64_t>(n);
    }
    shutdown(c, SHUT_WR);
    char b;
    while (recv(c, &b, 1, 0) > 0) {
    }
    close(c);
  });
  // A forwarding path that stops moving bytes is the worst outcome: say so and where.
  std::thread([&] {
    for (uint64_t last = ~0ull;; std::this_thread::sleep_for(std::chrono::seconds(2))) {
      uint64_t now = trips.load();
      if (pingpong && now == last && now < pingpong) {
        int qa = -1, qb = -1;
        ioctl(front_fd, FIONREAD, &qa);
        ioctl(back_fd, FIONREAD, &qb);
        printf(
            "mode %s stalled after %llu of %zu round trips (unread: client side %d, "
            "backend side %d bytes; the backend received %llu)\n",
            mode.c_str(), static_cast<unsigned long long>(now), pingpong, qa, qb,
            static_cast<unsigned long long>(received.load()));
        fflush(stdout);
        _exit(3);
      }
      last = now;
    }
  }).detach();
  int a = accept(front, nullptr, nullptr);
  int b = connect_to(18918);
  front_fd = a;
  back_fd = b;
  auto t0 = std::chrono::steady_clock::now();
  if (mode == "kernel") {
    if (!put(map, cookie(a), b) || !put(map, cookie(b), a)) {
      fprintf(stderr, "sockmap_probe: sockhash update: %s\n", strerror(errno));
      return 1;
    }
    // Bytes that arrived before the socket joined the sockhash stay in its receive queue:
    // the verdict runs on data that arrives later. With a client that waits for an answer
    // nothing more comes and the connection stalls, so they are forwarded from here once.
    // (FIONREAD cannot tell: on a sockhash socket it counts only the sockhash's queue.)
    if (!no_kick) {
      std::vector<char> buf(1 << 16);
      ssize_t n = recv(a, buf.data(), buf.size(), MSG_DONTWAIT);
      for (ssize_t off = 0; n > 0 && off < n;)
        off += write(b, buf.data() + off, static_cast<size_t>(n - off));
      if (n > 0) fprintf(stderr, "forwarded %zd early bytes from user space\n", n);
    }
    wait_eof(a);
    // The FIN shows before the last bytes are through: they may wait in the sockhash's
    // queue for room in the backend socket. Only when the backend acknowledged as many
    // bytes as the client sent may its FIN follow.
    while (info(b).tcpi_bytes_acked < info(a).tcpi_bytes_received)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  } else if (mode == "splice") {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return 1;
    for (;;) {
      ssize_t n = splice(a, nullptr, p[1], nullptr, 1 << 16, SPLICE_F_MOVE);
      if (n <= 0) break;
      while (n > 0) n -= splice(p[0], nullptr, b, nullptr, static_cast<size_t>(n), SPLICE_F_MOVE);
    }
  } else {
    auto pump = [](int from, int to) {
      std::vector<char> buf(1 << 16);
      for (ssize_t n; (n = read(from, buf.data(), buf.size())) > 0;)
        for (ssize_t off = 0; off < n;)
          off += write(to, buf.data() + off, static_cast<size_t>(n - off));
    };
    // Answers flow back on their own thread; it ends when the backend closes.
    std::thread down([&] { pump(b, a); });
    pump(a, b);
    shutdown(b, SHUT_WR);
    down.join();
  }
  shutdown(b, SHUT_WR);
  backend.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  close(a);
  close(b);
  client.join();
  if (pingpong)
    printf("mode %s round_trips %zu seconds %.3f per_second %.0f mean_us %.1f\n", mode.c_str(),
           pingpong, s, static_cast<double>(pingpong) / s, s * 1e6 / static_cast<double>(pingpong));
  else
    printf("mode %s bytes %llu received %llu seconds %.3f gbit_s %.2f all_before_eof %s\n",
           mode.c_str(), static_cast<unsigned long long>(total),
           static_cast<unsigned long long>(received.load()), s, total * 8 / s / 1e9,
           eof_after_all ? "yes" : "no");
  return eof_after_all ? 0 : 1;
}
