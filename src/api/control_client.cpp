#include "api/control_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace anycastd::api {

using nlohmann::json;

std::optional<json> ask(const std::string& path, const json& req, std::string& err,
                        std::chrono::seconds timeout) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    err = "cannot reach anycastd at " + path + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out = req.dump() + "\n", in;
  if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    err = std::string("send: ") + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) in.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto j = json::parse(in, nullptr, false);
  if (j.is_discarded()) {
    err = "anycastd sent no answer (timed out or closed)";
    return std::nullopt;
  }
  return j;
}

}  // namespace anycastd::api
