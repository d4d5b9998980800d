#pragma once
// One NVA's anycastd: the BGP speaker, the health checks, the proxy's forwarding, the link
// from checks to backends and VIP announcements, and the kernel FIB, on any Loop and
// Transport. anycastd runs one on the Asio runtime; the simulated lab runs one per NVA on
// virtual time, so both run the same wiring.
//
// Life: created → running (start) → [draining] → withdrawing → finishing → stopped.
// Draining lets routers move new flows away while the VIP still answers; withdrawing sends
// the withdrawals and closes the sessions; finishing lets open proxy connections end.
#include <functional>
#include <memory>
#include <string>

#include "api/control.hpp"
#include "api/reload_report.hpp"
#include "bgp/speaker.hpp"
#include "config/config.hpp"
#include "daemon/platform.hpp"
#include "health/monitor.hpp"
#include "proxy/health_link.hpp"
#include "runtime/scoped_posts.hpp"
#include "runtime/scoped_timer.hpp"

namespace anycastd::daemon {

struct Options {
  std::string config_path;  // read again by reload(); empty: reload is refused
  uint64_t speaker_seed = 1;
  uint64_t health_seed = 1;
};

class Daemon {
 public:
  enum class Phase { created, running, draining, withdrawing, finishing, stopped };

  Daemon(Loop& loop, Transport& transport, Platform& platform, config::Config cfg,
         Options opts = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Kernel table, sessions, forwarding, checks, then the control endpoints. On an error
  // nothing keeps running that was started.
  Status<> start();

  // Reads the configuration file again and applies what may change without a restart. A
  // bad file, or one that changes what only a restart can, changes nothing.
  api::ReloadReport reload();
  api::ReloadReport apply(config::Config next);

  // Every VIP with health settings; SIGUSR1 and SIGUSR2.
  void drain_all();
  void undrain_all();

  // SIGTERM: drain (when a VIP has a drain-time) and then withdraw; asked again while
  // draining, withdraw now; asked again after that, leave at once.
  void stop();
  // Called once, when the daemon has nothing left to do (the caller stops its loop).
  std::function<void()> on_stopped;

  // BGP alone goes down and comes back while the checks keep running (`birdc disable`).
  void stop_bgp();
  void start_bgp();
  bool bgp_running() const { return speaker_ != nullptr && !bgp_stopped_; }

  Phase phase() const { return phase_; }
  const config::Config& config() const { return cfg_; }
  bgp::Speaker* speaker() { return speaker_.get(); }
  health::Monitor* monitor() { return monitor_.get(); }
  proxy::Forwarder* forwarder() { return forwarder_.get(); }
  api::Parts parts();

  // Told of what the log says, for the lab's timeline.
  std::function<void(const health::Checker&, bool flipped)> on_check;
  std::function<void(const Prefix&, const health::VipHealth&)> on_announce;
  std::function<void(const bgp::Speaker&, size_t peer, bgp::State)> on_peer_state;

 private:
  void make_speaker();
  Status<> start_kernel_routes();
  Status<> start_forwarding();
  void start_health();
  void announce_current();
  void withdraw();
  void finish();
  void wait_for_connections();
  void leave();
  void release_kernel_routes();

  Loop& loop_;
  Transport& transport_;
  Platform& platform_;
  config::Config cfg_;
  Options opts_;
  Phase phase_ = Phase::created;
  bool bgp_stopped_ = false;
  std::unique_ptr<bgp::Speaker> speaker_;
  std::unique_ptr<fib::FibWriter> kernel_;
  std::unique_ptr<fib::FibSync> fib_;
  std::unique_ptr<proxy::Forwarder> forwarder_;
  std::unique_ptr<health::Monitor> monitor_;
  std::unique_ptr<proxy::HealthLink> link_;
  // A speaker stopped by stop_bgp, freed on the loop's next turn (it called us from inside
  // itself), or with the daemon if that comes first.
  std::unique_ptr<bgp::Speaker> retired_;
  // Whichever step of the shutdown is waiting: the drain, the flush, open connections.
  ScopedTimer step_;
  ScopedPosts posts_{loop_};
};

}  // namespace anycastd::daemon
