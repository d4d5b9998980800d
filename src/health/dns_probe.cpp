// DNS over UDP: one query per check on a connected socket, so that a port with no server
// fails at once ("refused") instead of at the timeout.
#include "health/dns_message.hpp"
#include "health/probe.hpp"

namespace anycastd::health {
namespace {

class DnsProbe : public Probe, private Datagram::Handler {
 public:
  DnsProbe(Loop& loop, Transport& t, const CheckConfig& cfg)
      : loop_(loop), t_(t), cfg_(cfg), next_id_(static_cast<uint16_t>(cfg.name.size() * 7919)) {}
  ~DnsProbe() override { cancel(); }

  void start(std::function<void(CheckResult)> done) override {
    cancel();
    done_ = std::move(done);
    t0_ = loop_.now();
    id_ = ++next_id_;
    IpAddress any = cfg_.target.address.is_v6() ? IpAddress::v6({}) : IpAddress::v4(0);
    auto sock = t_.udp({cfg_.source.value_or(any), 0}, cfg_.target, this);
    if (!sock) return finish(CheckResult::fail(Failure::error, sock.error()));
    sock_ = std::move(*sock);
    auto q = dns::build_query(id_, cfg_.dns.name, cfg_.dns.qtype);
    sock_->send(cfg_.target, std::move(q));
  }

  void cancel() override {
    done_ = nullptr;
    sock_.reset();
  }

 private:
  void on_datagram(const Endpoint&, ByteView data) override {
    auto r = dns::parse_response(data);
    // Not ours (a late answer to an earlier query, or garbage): keep waiting.
    if (!r || r->id != id_) return;
    Duration latency = loop_.now() - t0_;
    const auto& want = cfg_.dns;
    if (r->rcode != want.rcode)
      return finish(CheckResult::fail(Failure::wrong_answer,
                                      "rcode " + dns::rcode_to_string(r->rcode) + ", expected " +
                                          dns::rcode_to_string(want.rcode),
                                      latency));
    if (!want.answer.empty()) {
      bool found = false;
      for (const auto& a : r->answers) found |= a == want.answer;
      if (!found) {
        std::string got;
        for (const auto& a : r->answers) got += (got.empty() ? "" : ", ") + a;
        return finish(CheckResult::fail(
            Failure::wrong_answer,
            "answer " + (got.empty() ? std::string("empty") : got) + ", expected " + want.answer,
            latency));
      }
    }
    finish(CheckResult::success(latency));
  }
  void on_error(const std::string& reason) override {
    finish(CheckResult::fail(classify_socket_error(reason), reason));
  }

  void finish(CheckResult r) {
    auto done = std::move(done_);
    done_ = nullptr;
    // Safe inside the socket's own callback: both transports allow it.
    sock_.reset();
    if (done) done(std::move(r));
  }

  Loop& loop_;
  Transport& t_;
  CheckConfig cfg_;
  uint16_t next_id_;
  uint16_t id_ = 0;
  std::unique_ptr<Datagram> sock_;
  std::function<void(CheckResult)> done_;
  TimePoint t0_{};
};

}  // namespace

std::unique_ptr<Probe> make_dns_probe(Loop& loop, Transport& t, const CheckConfig& cfg) {
  return std::make_unique<DnsProbe>(loop, t, cfg);
}

}  // namespace anycastd::health
