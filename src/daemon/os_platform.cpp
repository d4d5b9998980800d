#include "daemon/os_platform.hpp"

#include "daemon/healthz.hpp"

#include <asio/post.hpp>

#include "api/metrics.hpp"
#include "daemon/log.hpp"
#include "fib/netlink_fib.hpp"
#include "health/exec_probe.hpp"
#include "proxy/engine.hpp"

namespace anycastd::daemon {

OsPlatform::OsPlatform(rt::AsioLoop& loop, rt::AsioTransport& transport)
    : loop_(loop),
      transport_(transport),
      started_unix_(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count()),
      systemd_(loop) {}

OsPlatform::~OsPlatform() {
  for (const auto& a : added_)
    if (auto err = aliases_->remove(a); !err.empty()) sub("proxy").warn("proxy: {}", err);
}

std::unique_ptr<health::Probe> OsPlatform::probe(const health::CheckConfig& c) {
  if (c.type == health::CheckType::exec) return health::make_exec_probe(loop_, c);
  return health::make_network_probe(loop_, transport_, c);
}

Result<std::unique_ptr<fib::FibWriter>, std::string> OsPlatform::kernel_routes(
    const fib::FibConfig& c) {
  auto nl = fib::NetlinkFib::open(c);
  if (!nl) return Err(nl.error());
  // Routes of our protocol number that a crashed run left behind.
  auto purged = (*nl)->purge();
  if (!purged) return Err(purged.error());
  if (*purged)
    sub("fib").info("fib: removed {} stale routes of protocol {} in table {}", *purged,
                    int{c.protocol}, c.table);
  return std::unique_ptr<fib::FibWriter>(std::move(*nl));
}

Result<std::unique_ptr<proxy::Forwarder>, std::string> OsPlatform::forwarding(
    const proxy::ProxyConfig& c, proxy::BackendFailure failed) {
  // The forwarding threads report failed connects, and the data plane new interfaces, from
  // their own threads; the control loop acts on them.
  auto e = proxy::Engine::start(
      c,
      [this, failed = std::move(failed)](size_t s, size_t b, const std::string& why) {
        asio::post(loop_.context(), [failed, s, b, why] { failed(s, b, why); });
      },
      [this](bool trouble, const std::string& what) {
        asio::post(loop_.context(), [trouble, what] {
          if (trouble)
            sub("proxy").warn("proxy: {}", what);
          else
            sub("proxy").info("proxy: {}", what);
        });
      });
  if (!e) return Err(e.error());
  if (auto r = add_addresses(c); !r) return Err(r.error());
  return std::unique_ptr<proxy::Forwarder>(std::move(*e));
}

Status<> OsPlatform::add_addresses(const proxy::ProxyConfig& c) {
  for (const auto& s : c.services) {
    if (!s.add_address) continue;
    if (!aliases_) {
      auto nl = fib::NetlinkAddress::open();
      if (!nl) return Err(s.name + ": " + nl.error());
      aliases_ = std::move(*nl);
    }
    auto added = aliases_->add(s.listen.address);
    if (!added) return Err(s.name + ": " + added.error());
    if (*added == fib::NetlinkAddress::Added::added) {
      added_.push_back(s.listen.address);
      sub("proxy").info("proxy {}: added {} to lo", s.name, s.listen.address.to_string());
    }
  }
  return Done{};
}

void OsPlatform::serve(const config::Config& c, std::function<api::Parts()> parts) {
  if (!c.control.socket.empty()) {
    auto s = api::ControlSocket::open(
        loop_, c.control.socket, c.control.mode, [parts](const nlohmann::json& req) {
          auto answer = api::handle(req, parts());
          // An accepted drain changes what the region routes: said in the log. Its fields
          // were checked by handle(), so they are strings here.
          if (answer["ok"] == true && answer.contains("vip"))
            sub("api").info("control: {} {}", req["command"].get<std::string>(),
                            answer["vip"].get<std::string>());
          // Who set a backend's state or weight, as HAProxy logs "(by the CLI)".
          if (answer["ok"] == true && answer.contains("backend"))
            sub("proxy").warn(
                "proxy {}: backend {} is {} with weight {}{} (set through the control socket)",
                answer["service"].get<std::string>(), answer["backend"].get<std::string>(),
                answer["state"].get<std::string>(), answer["weight"].get<int>(),
                answer["closed"] == true ? ", its open connections closed" : "");
          return answer;
        });
    if (s)
      control_ = std::move(*s);
    else
      spdlog::error("{}", s.error());
  }
  if (c.metrics.address) {
    auto m = api::MetricsHttp::open(
        loop_, {*c.metrics.address, c.metrics.port},
        [parts, started = started_unix_] { return api::metrics_text(parts(), started); },
        [parts, rule = c.metrics.healthz] {
          auto h = healthz(rule, parts());
          return std::make_pair(h.ok, std::move(h.reason));
        });
    if (m)
      metrics_ = std::move(*m);
    else
      spdlog::error("{}", m.error());
  }
}

}  // namespace anycastd::daemon
