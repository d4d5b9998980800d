// A minimal HTTP/1.1 server for proxy benchmarks: answers every request with a fixed small
// page, keep-alive unless the client says close. One epoll thread, so that the backend
// costs little next to the proxies being measured.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <string>
#include <unordered_map>

#include "proxy/socket_ops.hpp"

using namespace anycastd;

int main(int argc, char** argv) {
  CLI::App app{"http_backend: fixed-answer HTTP server for benchmarks"};
  std::string address = "127.0.0.1", name = "backend";
  uint16_t port = 8080;
  app.add_option("--address", address);
  app.add_option("--port", port);
  app.add_option("--name", name, "the page's body");
  CLI11_PARSE(app, argc, argv);
  auto at = IpAddress::parse(address);
  if (!at) return 2;
  auto lfd = proxy::open_listener({*at, port}, proxy::Protocol::tcp);
  if (!lfd) {
    fprintf(stderr, "%s\n", lfd.error().c_str());
    return 1;
  }
  const std::string body = name + "\n";
  const std::string keep = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nContent-Type: text/plain\r\n\r\n" + body;
  const std::string close_ = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n" + body;
  int ep = epoll_create1(0);
  epoll_event ev{EPOLLIN, {.fd = *lfd}};
  epoll_ctl(ep, EPOLL_CTL_ADD, *lfd, &ev);
  std::unordered_map<int, std::string> pending;
  epoll_event events[256];
  char buf[16384];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == *lfd) {
        for (;;) {
          int c = accept4(*lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{EPOLLIN, {.fd = c}};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      ssize_t r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        pending.erase(fd);
        close(fd);
        continue;
      }
      auto& in = pending[fd];
      in.append(buf, static_cast<size_t>(r));
      std::string out;
      bool closing = false;
      size_t end;
      while ((end = in.find("\r\n\r\n")) != std::string::npos) {
        bool wants_close = strcasestr(in.substr(0, end).c_str(), "connection: close") != nullptr;
        out += wants_close ? close_ : keep;
        in.erase(0, end + 4);
        if (wants_close) {
          closing = true;
          break;
        }
      }
      if (!out.empty()) [[maybe_unused]]
        auto w = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (closing) {
        pending.erase(fd);
        close(fd);
      }
    }
  }
}
