#include "api/metrics_http.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include "runtime/asio/asio_endpoint.hpp"

namespace anycastd::api {

using asio::ip::tcp;

namespace {
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr size_t kMaxRequest = 8192;
}  // namespace

struct MetricsHttp::State : std::enable_shared_from_this<MetricsHttp::State> {
  State(asio::io_context& io, std::function<std::string()> b) : acceptor(io), body(std::move(b)) {}
  tcp::acceptor acceptor;
  std::function<std::string()> body;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](std::error_code ec, tcp::socket s) {
      if (ec) return;
      self->serve(std::make_shared<tcp::socket>(std::move(s)));
      self->accept();
    });
  }

  void serve(std::shared_ptr<tcp::socket> s) {
    // A client that connects and says nothing is closed after a while, not kept forever.
    auto timer = std::make_shared<asio::steady_timer>(s->get_executor(), kRequestTimeout);
    timer->async_wait([s](std::error_code ec) {
      std::error_code ignored;
      if (!ec) s->close(ignored);
    });
    auto buf = std::make_shared<asio::streambuf>(kMaxRequest);
    asio::async_read_until(
        *s, *buf, "\r\n\r\n",
        [self = shared_from_this(), s, buf, timer](std::error_code ec, size_t n) {
          timer->cancel();
          if (ec) return;
          std::string head(asio::buffers_begin(buf->data()), asio::buffers_begin(buf->data()) + n);
          auto line = head.substr(0, head.find("\r\n"));
          std::string status = "200 OK", type = "text/plain; version=0.0.4; charset=utf-8", text;
          if (line.rfind("GET /metrics ", 0) == 0 || line.rfind("GET /metrics?", 0) == 0) {
            text = self->body();
          } else if (line.rfind("GET ", 0) != 0) {
            status = "405 Method Not Allowed";
            text = "only GET /metrics\n";
          } else {
            status = "404 Not Found";
            text = "only /metrics\n";
          }
          auto out =
              std::make_shared<std::string>("HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                                            "\r\nContent-Length: " + std::to_string(text.size()) +
                                            "\r\nConnection: close\r\n\r\n" + text);
          asio::async_write(*s, asio::buffer(*out), [s, out](std::error_code, size_t) {
            std::error_code ignored;
            s->shutdown(tcp::socket::shutdown_both, ignored);
          });
        });
  }
};

Result<std::unique_ptr<MetricsHttp>, std::string> MetricsHttp::open(
    asio::io_context& io, Endpoint at, std::function<std::string()> body) {
  auto st = std::make_shared<State>(io, std::move(body));
  std::error_code ec;
  tcp::endpoint ep(rt::to_asio(at.address), at.port);
  st->acceptor.open(ep.protocol(), ec);
  if (!ec) st->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) st->acceptor.bind(ep, ec);
  if (!ec) st->acceptor.listen(64, ec);
  if (ec) return Err("metrics listener " + at.to_string() + ": " + ec.message());
  st->accept();
  return std::unique_ptr<MetricsHttp>(new MetricsHttp(st));
}

MetricsHttp::~MetricsHttp() {
  std::error_code ec;
  state_->acceptor.close(ec);
}

}  // namespace anycastd::api
