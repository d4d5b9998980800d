// anycastd: announces the configured VIPs over BGP. Thin main: parse flags, load config,
// build the object graph on the real loop, run until SIGTERM.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <iostream>

#include "api/control.hpp"
#include "api/control_socket.hpp"
#include "api/metrics.hpp"
#include "api/metrics_http.hpp"
#include "bgp/speaker.hpp"
#include "config/config.hpp"
#include "fib/netlink_address.hpp"
#include "fib/netlink_fib.hpp"
#include "health/exec_probe.hpp"
#include "logging.hpp"
#include "proxy/health_link.hpp"
#include "runtime/asio/asio_transport.hpp"
#include "service_manager.hpp"

using namespace anycastd;

int main(int argc, char** argv) {
  CLI::App app{"anycastd: private anycast BGP speaker"};
  std::string config_path, log_level = "info";
  bool check = false, print = false;
  app.add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  app.add_flag("--check-config", check, "validate the configuration and exit");
  app.add_flag("--print", print, "with --check-config: print the configuration with defaults");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn or error; per subsystem too: info,bgp=debug "
                 "(bgp, health, proxy, fib, api)");
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "text, or json: one object per line for shippers")
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);

  if (auto bad = setup_logging(log_level, log_format == "json"); !bad.empty()) {
    std::cerr << "--log-level: " << bad << "\n";
    return 2;
  }

  auto cfg = config::load_file(config_path);
  if (!cfg) {
    std::cerr << cfg.error().to_string() << "\n";
    return 2;
  }
  if (check) {
    if (print) std::cout << config::print(*cfg);
    return 0;
  }

  const double started_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  rt::AsioLoop loop;
  rt::AsioTransport transport(loop);
  bgp::Speaker speaker(loop, transport, cfg->bgp);
  std::unique_ptr<fib::NetlinkFib> netlink;
  std::unique_ptr<fib::FibSync> kernel;
  if (cfg->fib.kernel) {
    auto nl = fib::NetlinkFib::open(cfg->fib);
    if (!nl) {
      sub("fib").error("fib: {}", nl.error());
      return 1;
    }
    netlink = std::move(*nl);
    auto purged = netlink->purge();
    if (!purged) {
      sub("fib").error("fib: {}", purged.error());
      return 1;
    }
    if (*purged)
      sub("fib").info("fib: removed {} stale routes of protocol {} in table {}", *purged,
                      int{cfg->fib.protocol}, cfg->fib.table);
    kernel = std::make_unique<fib::FibSync>(*netlink);
    kernel->on_error = [](const std::string& e) { sub("fib").warn("fib: {}", e); };
    speaker.on_route_change([&](const Prefix& p, const rib::Entry* e) { kernel->on_change(p, e); });
  }
  auto started = speaker.start();
  if (!started) {
    spdlog::error("{}", started.error());
    return 1;
  }
  // The forwarding threads report failed connects from their own threads; the control
  // loop acts on them.
  std::unique_ptr<proxy::HealthLink> link;
  std::unique_ptr<proxy::Engine> engine;
  std::unique_ptr<fib::NetlinkAddress> aliases;
  std::vector<IpAddress> added_addresses;  // only ours: removed again at exit
  if (!cfg->proxy.services.empty()) {
    auto e = proxy::Engine::start(cfg->proxy, [&](size_t s, size_t b, const std::string& why) {
      asio::post(loop.context(), [&link, s, b, why] {
        if (link) link->on_failure(s, b, why);
      });
    });
    if (!e) {
      sub("proxy").error("proxy: {}", e.error());
      return 1;
    }
    engine = std::move(*e);
    for (const auto& s : cfg->proxy.services) {
      if (!s.add_address) continue;
      if (!aliases) {
        auto nl = fib::NetlinkAddress::open();
        if (!nl) {
          sub("proxy").error("proxy {}: {}", s.name, nl.error());
          return 1;
        }
        aliases = std::move(*nl);
      }
      auto added = aliases->add(s.listen.address);
      if (!added) {
        sub("proxy").error("proxy {}: {}", s.name, added.error());
        for (const auto& a : added_addresses) aliases->remove(a);
        return 1;
      }
      if (*added == fib::NetlinkAddress::Added::added) {
        added_addresses.push_back(s.listen.address);
        sub("proxy").info("proxy {}: added {} to lo", s.name, s.listen.address.to_string());
      }
    }
    for (const auto& s : cfg->proxy.services)
      sub("proxy").info("proxy {}: {} {} to {} backends on {} threads", s.name,
                        s.protocol == proxy::Protocol::tcp ? "tcp" : "udp", s.listen.to_string(),
                        s.backends.size(), engine->threads());
  }
  std::unique_ptr<health::Monitor> monitor;
  if (!cfg->health.checks.empty()) {
    auto probes = [&](const health::CheckConfig& c) -> std::unique_ptr<health::Probe> {
      if (c.type == health::CheckType::exec) return health::make_exec_probe(loop, c);
      return health::make_network_probe(loop, transport, c);
    };
    monitor = std::make_unique<health::Monitor>(loop, cfg->health, probes, &transport);
    monitor->on_check = [&](const health::Checker& c, bool flipped) {
      if (link) link->on_check(c, flipped);
      const auto& st = c.state();
      if (flipped)
        sub("health").info("check {}: {} ({})", c.config().name, st.up() ? "up" : "down",
                           st.last()->describe());
      else if (!st.last()->ok)
        sub("health").debug("check {}: failed {} of {}: {}", c.config().name, st.failures(),
                            c.config().fall, st.last()->describe());
    };
    monitor->on_announce = [&](const Prefix& p, const health::Announcement& a,
                               const health::VipHealth& v) {
      sub("health").info("VIP {}: {} ({})", p.to_string(), health::to_string(v.status()),
                         v.reason());
      if (!a.announce) return speaker.set_vip(p, std::nullopt);
      speaker.set_vip(p, bgp::VipAdjust{a.extra_prepend, a.communities, a.med});
    };
    if (engine) {
      link = std::make_unique<proxy::HealthLink>(*monitor, *engine);
      link->on_log = [](const proxy::ServiceConfig& s, const proxy::BackendConfig& b,
                        const std::string& why) {
        sub("proxy").warn("proxy {}: backend {} failed a connection: {}; re-checking now", s.name,
                          b.endpoint.to_string(), why);
      };
    }
    monitor->start();
    if (link) link->refresh();
  }
  // SIGHUP and `anycastctl reload`: a bad file changes nothing; peers and VIP settings
  // apply in place, and unchanged peers keep their sessions.
  std::function<nlohmann::json()> reload = [&]() -> nlohmann::json {
    auto next = config::load_file(config_path);
    if (!next) {
      sub("api").error("reload refused: {}", next.error().to_string());
      return {{"ok", false}, {"error", next.error().to_string()}};
    }
    if (auto why = config::reload_blocker(*cfg, *next)) {
      sub("api").error("reload refused: {}", *why);
      return {{"ok", false}, {"error", *why}};
    }
    // Policies first: peers that start now use the new ones.
    auto refreshed = speaker.update_policies(next->bgp.policies);
    auto r = speaker.reconfigure(next->bgp.peers, next->bgp.vips);
    // Then checks: a VIP judged again is announced through the speaker's new VIP list.
    std::vector<std::string> health;
    if (monitor) health = monitor->reconfigure(next->health);
    if (link) link->refresh();
    *cfg = std::move(*next);
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s.empty() ? std::string("none") : s;
    };
    sub("api").info(
        "reloaded {}: peers added: {}; removed: {}; restarted: {}; VIPs: {}; policies "
        "refreshed toward: {}; health: {}",
        config_path, list(r.added), list(r.removed), list(r.restarted), list(r.vips_changed),
        list(refreshed), list(health));
    return {{"ok", true},
            {"added", r.added},
            {"removed", r.removed},
            {"restarted", r.restarted},
            {"vips", r.vips_changed},
            {"policies_refreshed", refreshed},
            {"health", health}};
  };
  api::Daemon daemon{&loop, &speaker, monitor.get(), engine.get(), reload};
  // Routing goes on without the control socket: a failure to open it is only logged.
  std::unique_ptr<api::ControlSocket> control;
  if (!cfg->control.socket.empty()) {
    auto c = api::ControlSocket::open(
        loop.context(), cfg->control.socket, cfg->control.mode,
        [daemon](const nlohmann::json& req) {
          auto answer = api::handle(req, daemon);
          if (answer.value("ok", false) &&
              req.value("command", "").find("drain") != std::string::npos)
            sub("api").info("control: {} {}", req.value("command", ""), req.value("vip", ""));
          return answer;
        });
    if (c)
      control = std::move(*c);
    else
      spdlog::error("{}", c.error());
  }
  std::unique_ptr<api::MetricsHttp> metrics;
  if (cfg->metrics.address) {
    auto m = api::MetricsHttp::open(
        loop.context(), {*cfg->metrics.address, cfg->metrics.port},
        [daemon, started_unix] { return api::metrics_text(daemon, started_unix); });
    if (m)
      metrics = std::move(*m);
    else
      spdlog::error("{}", m.error());
  }
  ServiceManager systemd(loop);
  systemd.ready();
  spdlog::info("anycastd started: AS{} router-id {}, {} peers, {} VIPs", cfg->bgp.local_as,
               IpAddress::v4(cfg->bgp.router_id).to_string(), cfg->bgp.peers.size(),
               cfg->bgp.vips.size());

  asio::signal_set hup(loop.context(), SIGHUP);
  std::function<void(const std::error_code&, int)> on_hup = [&](auto ec, int) {
    if (ec) return;
    reload();
    hup.async_wait(on_hup);
  };
  hup.async_wait(on_hup);

  // SIGUSR1 drains every VIP and SIGUSR2 undrains them (anycastctl drains one).
  asio::signal_set drain_signals(loop.context(), SIGUSR1, SIGUSR2);
  std::function<void(const std::error_code&, int)> on_drain_signal = [&](auto ec, int sig) {
    if (ec) return;
    if (monitor) {
      spdlog::info("signal {}: {} every VIP", sig, sig == SIGUSR1 ? "draining" : "undraining");
      for (const auto& [p, v] : monitor->vips())
        sig == SIGUSR1 ? monitor->drain(p) : monitor->undrain(p);
    }
    drain_signals.async_wait(on_drain_signal);
  };
  drain_signals.async_wait(on_drain_signal);

  asio::signal_set signals(loop.context(), SIGTERM, SIGINT);
  TimerId guard = 0;
  bool draining = false, stopped = false;
  std::function<void()> poll_proxy = [&] {
    if (engine->active_connections() == 0) return loop.stop();
    loop.schedule(std::chrono::milliseconds(50), poll_proxy);
  };
  std::function<void()> stop_now = [&] {
    if (stopped) return;
    stopped = true;
    systemd.stopping("withdrawing VIPs, closing sessions");
    if (monitor) monitor->stop();
    // If a peer never drains its socket, do not hang: leave after 5 s regardless.
    guard = loop.schedule(std::chrono::seconds(5), [&] { loop.stop(); });
    speaker.shutdown([&] {
      // Let the withdrawals and NOTIFICATIONs flush, then leave when no work remains.
      loop.cancel(guard);
      loop.schedule(std::chrono::milliseconds(200), [&] {
        if (!engine) return loop.stop();
        // The VIP is withdrawn; connections already open may finish, up to drain-time.
        engine->drain_all();
        sub("proxy").info("proxy: {} connections open, letting them finish",
                          engine->active_connections());
        poll_proxy();
      });
    });
  };
  std::function<void(const std::error_code&, int)> on_signal = [&](auto ec, int sig) {
    if (ec) return;
    if (stopped) {
      // Impatient: open proxy connections are reset rather than waited for.
      spdlog::info("signal {}: leaving now", sig);
      return loop.stop();
    }
    Duration drain = monitor && !draining ? monitor->drain_all() : Duration::zero();
    if (draining || drain == Duration::zero()) {
      spdlog::info("signal {}: withdrawing VIPs and closing sessions", sig);
      loop.cancel(guard);
      stop_now();
      return signals.async_wait(on_signal);  // a further signal leaves at once
    }
    // Planned maintenance: routers move new flows away while the VIP still answers.
    spdlog::info("signal {}: draining for {} ms before withdrawing (again to stop now)", sig,
                 std::chrono::duration_cast<std::chrono::milliseconds>(drain).count());
    draining = true;
    systemd.stopping("draining VIPs before withdrawing them");
    guard = loop.schedule(drain, [&] { stop_now(); });
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  loop.run();
  if (kernel) {
    sub("fib").info("fib: removing {} routes", kernel->installed());
    kernel->clear();
    // The speaker outlives `kernel`: it must not report anything more to it.
    speaker.on_route_change(nullptr);
  }
  for (const auto& a : added_addresses)
    if (auto err = aliases->remove(a); !err.empty()) sub("proxy").warn("proxy: {}", err);
  spdlog::info("anycastd stopped");
  return 0;
}
