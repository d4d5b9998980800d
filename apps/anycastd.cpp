// anycastd: announces the configured VIPs over BGP. The command line, logging and signals;
// everything else is the Daemon, on the Asio runtime.
#include <CLI/CLI.hpp>
#include <asio/signal_set.hpp>
#include <iostream>

#include "core/internal_error.hpp"
#include "daemon/daemon.hpp"
#include "daemon/os_platform.hpp"
#include "logging.hpp"

using namespace anycastd;

namespace {

// Re-arms itself: asio delivers one signal per wait.
void on_signals(asio::signal_set& set, std::function<void(int)> act) {
  set.async_wait([&set, act](const std::error_code& ec, int sig) {
    if (ec) return;
    act(sig);
    on_signals(set, act);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anycastd: private anycast BGP speaker"};
  app.set_version_flag("--version", std::string("anycastd ") + ANYCASTD_VERSION);
  std::string config_path, log_level = "info", log_format = "text";
  bool check = false, print = false;
  app.add_option("-c,--config", config_path, "configuration file (YAML)")->required();
  app.add_flag("--check-config", check, "validate the configuration and exit");
  app.add_flag("--print", print, "with --check-config: print the configuration with defaults");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn or error; per subsystem too: info,bgp=debug "
                 "(bgp, health, proxy, fib, api)");
  app.add_option("--log-format", log_format, "text, or json: one object per line for shippers")
      ->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);

  if (auto bad = setup_logging(log_level, log_format == "json"); !bad.empty()) {
    std::cerr << "--log-level: " << bad << "\n";
    return 2;
  }
  // Every boundary's last-resort catch logs through spdlog, with the subsystem "api"'s sinks.
  set_internal_error_log([](std::string_view what, std::string_view why) {
    spdlog::error("internal error handling {}: {}", what, why);
  });
  auto cfg = config::load_file(config_path);
  if (!cfg) {
    std::cerr << cfg.error().to_string() << "\n";
    return 2;
  }
  // On stderr for --check-config, so that --print's output stays the configuration alone.
  for (const auto& w : cfg->warnings)
    check ? void(std::cerr << "warning: " << w << "\n") : spdlog::warn("{}", w);
  if (check) {
    if (print) std::cout << config::print(*cfg);
    return 0;
  }

  rt::AsioLoop loop;
  rt::AsioTransport transport(loop);
  daemon::OsPlatform platform(loop, transport);
  daemon::Daemon d(loop, transport, platform, std::move(*cfg), {config_path});
  d.on_stopped = [&loop] { loop.stop(); };
  // SIGHUP (and `anycastctl reload`) reload; SIGUSR1 drains every VIP, SIGUSR2 undrains;
  // SIGTERM or SIGINT drains, withdraws and leaves, each one more a step sooner. Caught
  // before the start: its proxy serves (address translation from the moment its programs
  // attach) before start() returns, and a SIGTERM then must stop the daemon as it stops a
  // running one, not kill it with its log unwritten.
  asio::signal_set hup(loop.context(), SIGHUP), drain(loop.context(), SIGUSR1, SIGUSR2),
      term(loop.context(), SIGTERM, SIGINT);
  if (auto started = d.start(); !started) {
    spdlog::error("{}", started.error());
    return 1;
  }
  on_signals(hup, [&](int) { d.reload(); });
  on_signals(drain, [&](int sig) {
    spdlog::info("signal {}: {} every VIP", sig, sig == SIGUSR1 ? "draining" : "undraining");
    sig == SIGUSR1 ? d.drain_all() : d.undrain_all();
  });
  on_signals(term, [&](int sig) {
    spdlog::info("signal {}", sig);
    d.stop();
  });
  loop.run();
  spdlog::info("anycastd stopped");
  return 0;
}
