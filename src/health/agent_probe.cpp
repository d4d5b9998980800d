// HAProxy's agent-check: connect to the backend's agent, send the configured line if any,
// read the one line it answers (or what it sent before closing). The answer decides the
// verdict ("down" fails, as does a malformed answer, quoted in the result) and travels in
// the result so the health link can apply the admin state and weight it names.
#include "health/agent_reply.hpp"
#include "health/probe.hpp"

namespace anycastd::health {
namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 80)) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  }
  return out + (s.size() > 80 ? "...\"" : "\"");
}

class AgentProbe : public Probe, private Stream::Handler {
 public:
  AgentProbe(Loop& loop, Transport& t, const CheckConfig& cfg) : loop_(loop), t_(t), cfg_(cfg) {}
  ~AgentProbe() override { cancel(); }

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
      if (!cfg_.agent.send.empty()) {
        Bytes b(cfg_.agent.send.size());
        for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(cfg_.agent.send[i]);
        stream_->write(std::move(b));
      }
    });
  }

  void cancel() override {
    token_.reset();
    if (stream_) stream_->abort();
    stream_.reset();
    done_ = nullptr;
  }

 private:
  void on_data(ByteView data) override {
    for (auto b : data) buf_.push_back(static_cast<char>(b));
    if (buf_.find('\n') != std::string::npos) return judge();
    if (buf_.size() > kMaxAgentReply)
      finish(CheckResult::fail(Failure::wrong_answer,
                               "agent answer longer than " + std::to_string(kMaxAgentReply) +
                                   " bytes without a line end: " + quoted(buf_),
                               loop_.now() - t0_));
  }
  // HAProxy takes what the agent sent before closing as its answer, line end or not.
  void on_closed(const std::string& reason) override {
    if (buf_.empty())
      return finish(CheckResult::fail(classify_socket_error(reason),
                                      "agent closed without an answer (" + reason + ")",
                                      loop_.now() - t0_));
    judge();
  }

  void judge() {
    const Duration latency = loop_.now() - t0_;
    auto line = std::string_view(buf_).substr(0, buf_.find('\n'));
    auto reply = parse_agent_reply(line);
    if (!reply)
      return finish(CheckResult::fail(
          Failure::wrong_answer, "malformed agent answer " + quoted(line) + ": " + reply.error(),
          latency));
    CheckResult r =
        reply->up == false
            ? CheckResult::fail(Failure::wrong_answer, "agent says " + describe(*reply), latency)
            : CheckResult::success(latency);
    r.agent = std::move(*reply);
    finish(std::move(r));
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

std::unique_ptr<Probe> make_agent_probe(Loop& loop, Transport& t, const CheckConfig& cfg) {
  return std::make_unique<AgentProbe>(loop, t, cfg);
}

}  // namespace anycastd::health
