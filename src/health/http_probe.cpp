// HTTP/1.1 GET. With keep-alive (the default, as Envoy's reuse_connection) the connection
// stays open between checks: a check is then one request and one response on an established
// connection instead of a handshake and a teardown, and the open connection doubles as the
// watch. A response is reused only when its end is known (Content-Length, chunked, or no
// body) and the server did not ask to close.
#include <algorithm>

#include "health/http_response.hpp"
#include "health/probe.hpp"

namespace anycastd::health {
namespace {

Bytes to_bytes(const std::string& s) {
  Bytes b(s.size());
  std::transform(s.begin(), s.end(), b.begin(), [](char c) { return std::byte(c); });
  return b;
}

class HttpProbe : public Probe, private Stream::Handler {
 public:
  HttpProbe(Loop& loop, Transport& t, const CheckConfig& cfg) : loop_(loop), t_(t), cfg_(cfg) {
    std::string host = cfg_.http.host.empty() ? cfg_.target.address.to_string() : cfg_.http.host;
    request_ = to_bytes("GET " + cfg_.http.path + " HTTP/1.1\r\nHost: " + host +
                        "\r\nUser-Agent: anycastd-health\r\nAccept: */*\r\n" +
                        (cfg_.http.keep_alive ? "" : "Connection: close\r\n") + "\r\n");
  }
  ~HttpProbe() override { cancel(); }

  void start(std::function<void(CheckResult)> done) override {
    token_.reset();
    done_ = std::move(done);
    t0_ = loop_.now();
    buf_.clear();
    reused_ = stream_ != nullptr;  // only an idle kept connection survives a finished check
    if (reused_) return stream_->write(request_);
    connect();
  }

  void cancel() override {
    token_.reset();
    if (stream_) stream_->abort();
    stream_.reset();  // not from inside its callbacks: the Checker cancels from timers
    done_ = nullptr;
  }

  bool holds_connection() const override { return stream_ && !done_; }

 private:
  void connect() {
    token_ = t_.connect(cfg_.source, cfg_.target, [this](auto r) {
      token_.reset();
      if (!r) return finish(CheckResult::fail(classify_socket_error(r.error()), r.error()));
      stream_ = std::move(*r);
      stream_->start(this);
      stream_->write(request_);
    });
  }

  void on_data(ByteView data) override {
    if (!done_) return drop_stream();  // bytes nobody asked for: the connection is unusable
    for (auto b : data) buf_.push_back(static_cast<char>(b));
    if (auto r = evaluate(false)) finish(*r);
  }
  void on_closed(const std::string& reason) override {
    if (!done_) {  // the kept connection went away between checks
      drop_stream();
      if (on_lost) on_lost(reason);
      return;
    }
    if (reused_ && buf_.empty()) {
      // The server closed the idle connection as the request went out: like any HTTP client,
      // try once more on a new connection rather than call the backend down.
      drop_stream();
      reused_ = false;
      return connect();
    }
    if (auto r = evaluate(true)) return finish(*r);
    finish(CheckResult::fail(classify_socket_error(reason),
                             "connection closed before a response: " + reason));
  }

  // A verdict once the response is complete (or the server closed), else nothing yet.
  std::optional<CheckResult> evaluate(bool closed) {
    using K = HttpVerdict::Kind;
    auto v = judge_http_response(buf_, closed, cfg_.http);
    reusable_ = v.reusable;
    switch (v.kind) {
      case K::pending:
        return std::nullopt;
      case K::ok:
        return CheckResult::success(loop_.now() - t0_);
      case K::not_http:
      case K::truncated:
      case K::too_large:
        return CheckResult::fail(Failure::wrong_answer, v.detail);
      case K::wrong_status:
        return CheckResult::fail(Failure::wrong_status, v.detail, loop_.now() - t0_);
      case K::wrong_body:
        return CheckResult::fail(Failure::wrong_answer, v.detail, loop_.now() - t0_);
    }
    return std::nullopt;
  }

  void finish(CheckResult r) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (!(cfg_.http.keep_alive && r.ok && reusable_)) drop_stream();
    if (done) done(std::move(r));
  }

  void drop_stream() {
    if (!stream_) return;
    stream_->abort();
    destroy_later(loop_, std::move(stream_));  // we may be inside its own callback
  }

  Loop& loop_;
  Transport& t_;
  CheckConfig cfg_;
  Bytes request_;
  std::shared_ptr<void> token_;
  std::unique_ptr<Stream> stream_;
  std::function<void(CheckResult)> done_;
  std::string buf_;
  bool reused_ = false, reusable_ = false;
  TimePoint t0_{};
};

}  // namespace

std::unique_ptr<Probe> make_http_probe(Loop& loop, Transport& t, const CheckConfig& cfg) {
  return std::make_unique<HttpProbe>(loop, t, cfg);
}

}  // namespace anycastd::health
