#include "api/metrics_http.hpp"

#include <asio/ip/tcp.hpp>

#include "api/request_server.hpp"
#include "core/internal_error.hpp"
#include "runtime/asio/asio_endpoint.hpp"

#include "runtime/asio/asio_loop.hpp"

namespace anycastd::api {

using asio::ip::tcp;

std::string MetricsHttp::respond(const std::function<std::string()>& body, std::string_view head,
                                 const Health& health) {
  auto line = head.substr(0, head.find("\r\n"));
  auto starts = [&](std::string_view p) { return line.substr(0, p.size()) == p; };
  std::string status = "200 OK", text;
  if (starts("GET /metrics ") || starts("GET /metrics?")) {
    if (!guarded("a metrics scrape", [&] { text = body(); })) {
      status = "500 Internal Server Error";
      text = "internal error (logged); the daemon runs on\n";
    }
  } else if (health && (starts("GET /healthz ") || starts("GET /healthz?"))) {
    if (!guarded("a health probe", [&] {
          auto [ok, why] = health();
          status = ok ? "200 OK" : "503 Service Unavailable";
          text = why + "\n";
        })) {
      status = "500 Internal Server Error";
      text = "internal error (logged); the daemon runs on\n";
    }
  } else if (!starts("GET ")) {
    status = "405 Method Not Allowed";
    text = health ? "only GET /metrics and GET /healthz\n" : "only GET /metrics\n";
  } else {
    status = "404 Not Found";
    text = health ? "only /metrics and /healthz\n" : "only /metrics\n";
  }
  return "HTTP/1.1 " + status +
         "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
}

struct MetricsHttp::State {
  std::shared_ptr<RequestServer<tcp>> server;
};

Result<std::unique_ptr<MetricsHttp>, std::string> MetricsHttp::open(
    rt::AsioLoop& loop, Endpoint at, std::function<std::string()> body, Health health) {
  auto& io = loop.context();
  auto st = std::make_shared<State>();
  st->server = std::make_shared<RequestServer<tcp>>(
      io, "\r\n\r\n",
      [body = std::move(body), health = std::move(health)](const std::string& head) {
        return respond(body, head, health);
      });
  auto& acceptor = st->server->acceptor;
  std::error_code ec;
  tcp::endpoint ep(rt::to_asio(at.address), at.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(64, ec);
  if (ec) return Err("metrics listener " + at.to_string() + ": " + ec.message());
  st->server->start();
  return std::unique_ptr<MetricsHttp>(new MetricsHttp(st));
}

MetricsHttp::~MetricsHttp() {
  std::error_code ec;
  state_->server->acceptor.close(ec);
}

}  // namespace anycastd::api
