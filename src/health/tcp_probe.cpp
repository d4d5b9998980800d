#include <algorithm>
#include <cctype>

#include "health/probe.hpp"

namespace anycastd::health {

Failure classify_socket_error(const std::string& reason) {
  std::string r = reason;
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  if (r.find("refused") != std::string::npos) return Failure::refused;
  if (r.find("reset") != std::string::npos) return Failure::reset;
  if (r.find("timed out") != std::string::npos) return Failure::timeout;
  return Failure::error;
}

namespace {

class TcpProbe : public Probe {
 public:
  TcpProbe(Loop& loop, Transport& t, const CheckConfig& cfg) : loop_(loop), t_(t), cfg_(cfg) {}

  void start(std::function<void(CheckResult)> done) override {
    TimePoint t0 = loop_.now();
    token_ = t_.probe_connect(
        cfg_.source, cfg_.target, [this, t0, done](std::optional<std::string> error) {
          token_.reset();
          if (error) return done(CheckResult::fail(classify_socket_error(*error), *error));
          done(CheckResult::success(loop_.now() - t0));
        });
  }
  void cancel() override { token_.reset(); }

 private:
  Loop& loop_;
  Transport& t_;
  CheckConfig cfg_;
  std::shared_ptr<void> token_;
};

}  // namespace

std::unique_ptr<Probe> make_network_probe(Loop& loop, Transport& t, const CheckConfig& cfg) {
  switch (cfg.type) {
    case CheckType::http:
      return make_http_probe(loop, t, cfg);
    case CheckType::dns:
      return make_dns_probe(loop, t, cfg);
    case CheckType::haproxy:
      return make_haproxy_probe(loop, t, cfg);
    case CheckType::agent:
      return make_agent_probe(loop, t, cfg);
    default:
      return make_tcp_probe(loop, t, cfg);
  }
}

std::unique_ptr<Probe> make_tcp_probe(Loop& loop, Transport& t, const CheckConfig& cfg) {
  return std::make_unique<TcpProbe>(loop, t, cfg);
}

}  // namespace anycastd::health
