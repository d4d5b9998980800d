// HAProxy's stats socket: `show stat` once per check; HAProxy answers and closes.
#include "health/haproxy_stat.hpp"
#include "health/probe.hpp"

namespace anycastd::health {
namespace {

// HAProxy's CSV for a large config is a few hundred kilobytes; beyond this is not HAProxy.
constexpr size_t kMaxStatBytes = 16 << 20;

class HaproxyProbe : public Probe, private Stream::Handler {
 public:
  HaproxyProbe(Loop& loop, Transport& t, const CheckConfig& cfg) : loop_(loop), t_(t), cfg_(cfg) {}
  ~HaproxyProbe() override { cancel(); }

  void start(std::function<void(CheckResult)> done) override {
    cancel();
    done_ = std::move(done);
    t0_ = loop_.now();
    buf_.clear();
    auto on_connect = [this](Result<std::unique_ptr<Stream>, std::string> r) {
      token_.reset();
      if (!r) return finish(CheckResult::fail(classify_socket_error(r.error()), r.error()));
      stream_ = std::move(*r);
      stream_->start(this);
      std::string cmd = "show stat\n";
      Bytes b(cmd.size());
      for (size_t i = 0; i < cmd.size(); ++i) b[i] = std::byte(cmd[i]);
      stream_->write(std::move(b));
    };
    token_ = cfg_.haproxy.socket.empty() ? t_.connect(cfg_.source, cfg_.target, on_connect)
                                         : t_.connect_unix(cfg_.haproxy.socket, on_connect);
  }

  void cancel() override {
    token_.reset();
    if (stream_) stream_->close();
    stream_.reset();
    done_ = nullptr;
  }

 private:
  void on_data(ByteView data) override {
    if (buf_.size() + data.size() > kMaxStatBytes)
      return finish(CheckResult::fail(Failure::wrong_answer, "stats output too large"));
    for (auto b : data) buf_.push_back(static_cast<char>(b));
  }
  void on_closed(const std::string&) override {
    const auto& h = cfg_.haproxy;
    auto name = h.backend + "/" + h.server;
    auto status = haproxy_status(buf_, h.backend, h.server);
    Duration latency = loop_.now() - t0_;
    if (!status) {
      auto first = buf_.substr(0, buf_.find('\n'));
      return finish(CheckResult::fail(Failure::wrong_answer,
                                      buf_.rfind("# ", 0) == 0
                                          ? name + " not in show stat"
                                          : "not a show stat answer: " + first.substr(0, 80),
                                      latency));
    }
    if (!haproxy_status_up(*status))
      return finish(CheckResult::fail(Failure::wrong_answer, name + " is " + *status, latency));
    finish(CheckResult::success(latency));
  }

  void finish(CheckResult r) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (stream_) {
      stream_->close();
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

std::unique_ptr<Probe> make_haproxy_probe(Loop& loop, Transport& t, const CheckConfig& cfg) {
  return std::make_unique<HaproxyProbe>(loop, t, cfg);
}

}  // namespace anycastd::health
