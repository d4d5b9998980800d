#pragma once
// The proxy's data plane: one forwarding thread per core, each with its own epoll loop and
// its own SO_REUSEPORT listener per service, so the kernel spreads new connections. The
// control plane never runs on these threads; it publishes backend health and drain state,
// which each thread picks up before its next new connection.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "proxy/backend_control.hpp"
#include "proxy/forwarder.hpp"

namespace anycastd::proxy {

class MaglevTable;
class Sockmap;
class KernelNat;
class Worker;

using SteadyTime = std::chrono::steady_clock::time_point;

// What the control plane publishes for one service; immutable once published.
struct ServiceState {
  // The backends' slots (backend_plan.hpp): in the order they first came, removed ones kept.
  std::vector<BackendConfig> configs;
  std::vector<BackendControl> control;  // what decides each backend's view, below
  std::vector<BackendView> backends;    // effective_view() of each: what the balancers read
  std::shared_ptr<const MaglevTable> maglev;
  bool draining = false;
  SteadyTime drain_deadline{};
};

class Engine : public Forwarder {
 public:
  // What the data plane has to say after start (an interface that appeared, and whether
  // address translation covers it), from a thread of its own.
  using Notice = std::function<void(bool trouble, const std::string& what)>;
  // Binds every listener first, so a bad address fails here and no thread starts.
  static Result<std::unique_ptr<Engine>, std::string> start(ProxyConfig cfg,
                                                            BackendFailure on_failure = nullptr,
                                                            Notice on_notice = nullptr);
  ~Engine() override;  // stops the threads and closes every connection

  const ProxyConfig& config() const override { return cfg_; }
  size_t threads() const override { return workers_.size(); }
  void set_backend_health(size_t service, size_t backend, bool healthy) override;
  bool set_backend_admin(size_t service, size_t backend, AdminState state) override;
  bool set_backend_weight(size_t service, size_t backend, uint32_t weight) override;
  void close_backend_connections(size_t service, size_t backend) override;
  void drain(size_t service) override;
  void undrain(size_t service) override;
  void drain_all() override;
  uint64_t active_connections() const override;
  ServiceStats stats(size_t service) const override;
  Result<BackendChanges, std::string> reconfigure_backends(
      size_t service, const std::vector<BackendConfig>& backends) override;

  // Shared with the forwarding threads.
  struct Counters {
    std::atomic<uint64_t> connections{0}, active{0}, failures{0}, bytes_in{0}, bytes_out{0};
  };
  struct Service {
    ServiceConfig cfg;
    mutable std::mutex mu;
    std::shared_ptr<const ServiceState> state;  // under mu
    std::atomic<uint64_t> version{1};
    std::atomic<uint64_t> active{0}, refused{0}, dropped{0}, kernel_connections{0};
    std::unique_ptr<Counters[]> backends;  // kBackendSlots, by slot
    bool kernel = false;                   // established connections go to the sockmap
    int nat = -1;         // `forwarding: nat`: its number in the translation program's maps
    std::string why_not;  // for `auto` left in user space: the reason
    std::shared_ptr<const ServiceState> load() const {
      std::lock_guard l(mu);
      return state;
    }
  };
  std::vector<std::unique_ptr<Service>>& services() { return services_; }
  const BackendFailure& on_failure() const { return on_failure_; }
  Sockmap* sockmap() { return sockmap_.get(); }

 private:
  Engine() = default;
  Status<> choose_forwarding(uint32_t threads);
  Status<> start_nat();
  void publish(size_t service, const std::function<void(ServiceState&)>& change);

  ProxyConfig cfg_;
  BackendFailure on_failure_;
  Notice on_notice_;
  std::vector<std::unique_ptr<Service>> services_;
  std::unique_ptr<Sockmap> sockmap_;  // before workers_: they hold pairs of it
  std::unique_ptr<KernelNat> nat_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::vector<int> shared_listeners_;  // by service; -1 for UDP
};

}  // namespace anycastd::proxy
