#include "api/control_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/local/stream_protocol.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "api/request_server.hpp"
#include "core/internal_error.hpp"

#include "runtime/asio/asio_loop.hpp"

namespace anycastd::api {

using asio::local::stream_protocol;

namespace {

bool someone_listens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string ControlSocket::answer_line(const Handler& h, std::string_view received) {
  auto line = received.substr(0, received.find('\n'));
  auto req = nlohmann::json::parse(line, nullptr, false);
  nlohmann::json a;
  if (req.is_discarded()) {
    a = {{"ok", false}, {"error", "the request is not JSON"}};
  } else if (!guarded("a control request", [&] { a = h(req); })) {
    a = {{"ok", false},
         {"error", "internal error handling this request (logged); the daemon runs on"}};
  }
  // Invalid UTF-8 in a string the request carried back must not make dump() throw.
  return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

struct ControlSocket::State {
  std::shared_ptr<RequestServer<stream_protocol>> server;
  std::string path;
};

Result<std::unique_ptr<ControlSocket>, std::string> ControlSocket::open(rt::AsioLoop& loop,
                                                                        const std::string& path,
                                                                        unsigned mode, Handler h) {
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return Err("control socket " + path + ": path too long");
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (std::filesystem::exists(path, ec)) {
    if (someone_listens(path))
      return Err("control socket " + path + " is in use by another running anycastd");
    std::filesystem::remove(path, ec);
  }
  auto& io = loop.context();
  auto st = std::make_shared<State>();
  st->path = path;
  st->server = std::make_shared<RequestServer<stream_protocol>>(
      io, "\n", [h = std::move(h)](const std::string& line) { return answer_line(h, line); });
  auto& acceptor = st->server->acceptor;
  acceptor.open(stream_protocol(), ec);
  if (!ec) acceptor.bind(stream_protocol::endpoint(path), ec);
  if (!ec) acceptor.listen(16, ec);
  if (ec) return Err("control socket " + path + ": " + ec.message());
  if (::chmod(path.c_str(), mode) != 0)
    return Err("control socket " + path + ": chmod: " + std::strerror(errno));
  st->server->start();
  return std::unique_ptr<ControlSocket>(new ControlSocket(st));
}

ControlSocket::~ControlSocket() {
  std::error_code ec;
  state_->server->acceptor.close(ec);
  std::filesystem::remove(state_->path, ec);
}

}  // namespace anycastd::api
