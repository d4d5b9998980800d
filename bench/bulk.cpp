// bulk: one large TCP transfer for proxy benchmarks. `--serve` sends --mib MiB to every
// connection, then closes it; `--fetch` connects, reads to the end and prints how many bytes
// came in how long. Loopback only; the server stops when its parent bench stops it.
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "proxy/socket_ops.hpp"

using namespace anycastd;

namespace {

int serve(const Endpoint& at, uint64_t bytes) {
  auto lfd = proxy::open_listener(at, proxy::Protocol::tcp);
  if (!lfd) {
    fprintf(stderr, "bulk: %s\n", lfd.error().c_str());
    return 1;
  }
  int fd = *lfd;
  // The listener is non-blocking; this server wants to wait.
  int flags = 0;
  ::ioctl(fd, FIONBIO, &flags);
  static std::vector<char> block(1 << 20, 'x');
  for (;;) {
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::thread([c, bytes] {
      for (uint64_t sent = 0; sent < bytes;) {
        ssize_t n =
            ::send(c, block.data(), std::min<uint64_t>(block.size(), bytes - sent), MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<uint64_t>(n);
      }
      ::shutdown(c, SHUT_WR);
      char b[256];
      while (::recv(c, b, sizeof b, 0) > 0) {
      }
      ::close(c);
    }).detach();
  }
}

int fetch(const Endpoint& at) {
  int fd = ::socket(at.address.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto sa = proxy::to_sockaddr(at);
  auto t0 = std::chrono::steady_clock::now();
  if (::connect(fd, sa.get(), sa.length) < 0) {
    perror("bulk: connect");
    return 1;
  }
  std::vector<char> buf(1 << 20);
  uint64_t got = 0;
  for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) got += static_cast<uint64_t>(n);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  printf("%llu bytes %.3f s %.2f Gbit/s\n", static_cast<unsigned long long>(got), s,
         static_cast<double>(got) * 8 / s / 1e9);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bulk: one large TCP transfer, served or fetched"};
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  uint64_t mib = 1024;
  bool serving = false;
  app.add_flag("--serve", serving, "serve --mib MiB to each connection (else fetch once)");
  app.add_option("--address", address)->required();
  app.add_option("--port", port)->required();
  app.add_option("--mib", mib)->check(CLI::Range(1, 65536));
  CLI11_PARSE(app, argc, argv);
  auto ip = IpAddress::parse(address);
  if (!ip) return 2;
  return serving ? serve({*ip, port}, mib << 20) : fetch({*ip, port});
}
