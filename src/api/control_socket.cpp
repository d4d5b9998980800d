#include "api/control_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace anycastd::api {

using asio::local::stream_protocol;

namespace {
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr size_t kMaxRequest = 64 * 1024;

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

struct ControlSocket::State : std::enable_shared_from_this<ControlSocket::State> {
  State(asio::io_context& io, std::string p, Handler h)
      : acceptor(io), path(std::move(p)), handler(std::move(h)) {}
  stream_protocol::acceptor acceptor;
  std::string path;
  Handler handler;

  void accept() {
    acceptor.async_accept(
        [self = shared_from_this()](std::error_code ec, stream_protocol::socket s) {
          if (ec) return;  // closed
          self->serve(std::make_shared<stream_protocol::socket>(std::move(s)));
          self->accept();
        });
  }

  void serve(std::shared_ptr<stream_protocol::socket> s) {
    // A client that connects and says nothing is closed after a while, not kept forever.
    auto timer = std::make_shared<asio::steady_timer>(s->get_executor(), kRequestTimeout);
    timer->async_wait([s](std::error_code ec) {
      std::error_code ignored;
      if (!ec) s->close(ignored);
    });
    auto buf = std::make_shared<asio::streambuf>(kMaxRequest);
    asio::async_read_until(
        *s, *buf, '\n', [self = shared_from_this(), s, buf, timer](std::error_code ec, size_t n) {
          timer->cancel();
          if (ec && n == 0) return;
          std::string line(asio::buffers_begin(buf->data()), asio::buffers_begin(buf->data()) + n);
          nlohmann::json answer;
          auto req = nlohmann::json::parse(line, nullptr, false);
          if (req.is_discarded())
            answer = {{"ok", false}, {"error", "the request is not JSON"}};
          else
            answer = self->handler(req);
          auto out = std::make_shared<std::string>(answer.dump() + "\n");
          asio::async_write(*s, asio::buffer(*out), [s, out](std::error_code, size_t) {
            std::error_code ignored;
            s->shutdown(stream_protocol::socket::shutdown_both, ignored);
          });
        });
  }
};

Result<std::unique_ptr<ControlSocket>, std::string> ControlSocket::open(asio::io_context& io,
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
  auto st = std::make_shared<State>(io, path, std::move(h));
  st->acceptor.open(stream_protocol(), ec);
  if (!ec) st->acceptor.bind(stream_protocol::endpoint(path), ec);
  if (!ec) st->acceptor.listen(16, ec);
  if (ec) return Err("control socket " + path + ": " + ec.message());
  if (::chmod(path.c_str(), mode) != 0)
    return Err("control socket " + path + ": chmod: " + std::strerror(errno));
  st->accept();
  return std::unique_ptr<ControlSocket>(new ControlSocket(st));
}

ControlSocket::~ControlSocket() {
  std::error_code ec;
  state_->acceptor.close(ec);
  std::filesystem::remove(state_->path, ec);
}

}  // namespace anycastd::api
