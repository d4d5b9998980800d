#pragma once
// One request per connection, the way the control socket and the metrics listener both
// work: read up to a delimiter (bounded in size, and closed after 10 s of silence), answer
// with respond(request), close. Protocol: asio's local::stream_protocol or ip::tcp.
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/internal_error.hpp"

namespace anycastd::api {

template <class Protocol>
class RequestServer : public std::enable_shared_from_this<RequestServer<Protocol>> {
 public:
  using Respond = std::function<std::string(const std::string& request)>;
  RequestServer(asio::io_context& io, std::string delimiter, Respond respond)
      : acceptor(io), delimiter_(std::move(delimiter)), respond_(std::move(respond)) {}

  typename Protocol::acceptor acceptor;  // opened and bound by the owner, then start()

  void start() {
    acceptor.async_accept(
        [self = this->shared_from_this()](std::error_code ec, typename Protocol::socket s) {
          if (ec) return;  // closed
          self->serve(std::make_shared<typename Protocol::socket>(std::move(s)));
          self->start();
        });
  }

 private:
  static constexpr auto kRequestTimeout = std::chrono::seconds(10);
  static constexpr size_t kMaxRequest = 64 * 1024;

  void serve(std::shared_ptr<typename Protocol::socket> s) {
    // A client that connects and says nothing is closed after a while, not kept forever.
    auto timer = std::make_shared<asio::steady_timer>(s->get_executor(), kRequestTimeout);
    timer->async_wait([s](std::error_code ec) {
      std::error_code ignored;
      if (!ec) s->close(ignored);
    });
    auto buf = std::make_shared<asio::streambuf>(kMaxRequest);
    asio::async_read_until(
        *s, *buf, delimiter_,
        [self = this->shared_from_this(), s, buf, timer](std::error_code ec, size_t n) {
          timer->cancel();
          if (ec) return;
          std::string request(asio::buffers_begin(buf->data()),
                              asio::buffers_begin(buf->data()) + n);
          auto out = std::make_shared<std::string>();
          // respond() answers every input itself; this catch is the last resort that costs
          // one connection instead of the daemon.
          if (!guarded("a request on a control or metrics listener",
                       [&] { *out = self->respond_(request); })) {
            std::error_code ignored;
            s->close(ignored);
            return;
          }
          asio::async_write(*s, asio::buffer(*out), [s, out](std::error_code, size_t) {
            std::error_code ignored;
            s->shutdown(Protocol::socket::shutdown_both, ignored);
          });
        });
  }

  std::string delimiter_;
  Respond respond_;
};

}  // namespace anycastd::api
