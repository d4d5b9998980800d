// HTTP/1.1 GET with `Connection: close`: the response ends at Content-Length, at the end
// of a chunked body, or when the server closes.
#include <algorithm>
#include <charconv>

#include "health/probe.hpp"

namespace anycastd::health {
namespace {

class HttpProbe : public Probe, private Stream::Handler {
 public:
  HttpProbe(Loop& loop, Transport& t, const CheckConfig& cfg) : loop_(loop), t_(t), cfg_(cfg) {}
  ~HttpProbe() override { cancel(); }

  void start(std::function<void(CheckResult)> done) override {
    cancel();
    done_ = std::move(done);
    t0_ = loop_.now();
    buf_.clear();
    token_ = t_.connect(cfg_.source, cfg_.target, [this](auto r) {
      token_.reset();
      if (!r) return finish(CheckResult::fail(classify_socket_error(r.error()), r.error()));
      stream_ = std::move(*r);
      stream_->start(this);
      std::string host = cfg_.http.host.empty() ? cfg_.target.address.to_string() : cfg_.http.host;
      std::string req =
          "GET " + cfg_.http.path + " HTTP/1.1\r\nHost: " + host +
          "\r\nUser-Agent: anycastd-health\r\nAccept: */*\r\nConnection: close\r\n\r\n";
      Bytes b(req.size());
      std::transform(req.begin(), req.end(), b.begin(), [](char c) { return std::byte(c); });
      stream_->write(std::move(b));
    });
  }

  void cancel() override {
    token_.reset();
    if (stream_) stream_->close();
    stream_.reset();
    done_ = nullptr;
  }

 private:
  void on_data(ByteView data) override {
    for (auto b : data) buf_.push_back(static_cast<char>(b));
    if (auto r = evaluate(false)) finish(*r);
  }
  void on_closed(const std::string& reason) override {
    if (auto r = evaluate(true)) return finish(*r);
    finish(CheckResult::fail(classify_socket_error(reason),
                             "connection closed before a response: " + reason));
  }

  // A verdict once the response is complete (or the server closed), else nothing yet.
  std::optional<CheckResult> evaluate(bool closed) {
    auto head_end = buf_.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (closed && !buf_.empty())
        return CheckResult::fail(Failure::wrong_answer, "truncated response headers");
      return std::nullopt;
    }
    // "HTTP/1.1 200 OK"
    int status = 0;
    if (buf_.rfind("HTTP/1.", 0) != 0 || buf_.size() < 12 ||
        std::from_chars(buf_.data() + 9, buf_.data() + 12, status).ec != std::errc())
      return CheckResult::fail(Failure::wrong_answer, "not an HTTP response");
    const auto& ok = cfg_.http.statuses;
    if (std::find(ok.begin(), ok.end(), status) == ok.end())
      return CheckResult::fail(Failure::wrong_status, "status " + std::to_string(status),
                               loop_.now() - t0_);
    if (cfg_.http.body.empty()) return CheckResult::success(loop_.now() - t0_);
    std::string head = buf_.substr(0, head_end);
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    size_t body_len = buf_.size() - head_end - 4;
    bool complete = closed;
    if (auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
      size_t want = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
      complete = complete || body_len >= want;
    } else if (head.find("chunked") != std::string::npos) {
      complete = complete || buf_.find("\r\n0\r\n\r\n", head_end) != std::string::npos;
    }
    if (!complete) return std::nullopt;
    if (buf_.find(cfg_.http.body, head_end + 4) == std::string::npos)
      return CheckResult::fail(Failure::wrong_answer, "body lacks \"" + cfg_.http.body + "\"",
                               loop_.now() - t0_);
    return CheckResult::success(loop_.now() - t0_);
  }

  void finish(CheckResult r) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (stream_) {
      stream_->abort();
      destroy_later(loop_, std::move(stream_));  // we may be inside its own callback
    }
    if (done) done(std::move(r));
  }

  Loop& loop_;
  Transport& t_;
  CheckConfig cfg_;
  std::shared_ptr<void> token_;
  std::unique_ptr<Stream> stream_;
  std::function<void(CheckResult)> done_;
  std::string buf_;
  TimePoint t0_{};
};

}  // namespace

std::unique_ptr<Probe> make_http_probe(Loop& loop, Transport& t, const CheckConfig& cfg) {
  return std::make_unique<HttpProbe>(loop, t, cfg);
}

}  // namespace anycastd::health
