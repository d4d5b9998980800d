#pragma once
// What the control plane asks of the proxy's forwarding, whoever does it: the engine's
// threads on real sockets, or the simulated lab's NVAs on virtual ones. The health link,
// the daemon and the control API see only this, so the lab runs them unchanged.
#include <cstdint>
#include <functional>
#include <string>

#include "proxy/backend_control.hpp"
#include "proxy/backend_plan.hpp"
#include "proxy/service_config.hpp"

namespace anycastd::proxy {

// Backend slots (backend_plan.hpp) a service of the forwarding threads has for its life;
// address translation's has kNatBackends.
inline constexpr size_t kBackendSlots = 256;

struct BackendStats {
  uint64_t connections = 0, active = 0, failures = 0, bytes_in = 0, bytes_out = 0;
  bool healthy = true;  // its checks pass (or it has none)
  AdminState admin = AdminState::ready;
  uint32_t weight = 1;   // in force now: the configured one, or the operator's
  bool removed = false;  // a reload took it out; its open connections drain
};
struct ServiceStats {
  uint64_t connections = 0, active = 0, refused = 0, bytes_in = 0, bytes_out = 0;
  uint64_t dropped = 0;  // UDP answers the kernel would not send (send buffer full)
  bool draining = false;
  // "kernel" or "user", and why when that is not what the configuration asked for.
  std::string forwarding = "user";
  std::string forwarding_reason;
  // Connections whose bytes the kernel forwarded (the others, such as those whose client had
  // already half-closed when the backend answered, went through the forwarding threads).
  uint64_t kernel_connections = 0;
  // forwarding: nat's connection tracking: entries by state (as of its last sweep, every two
  // seconds), those forgotten after their timeout, TCP segments without an entry
  // sent on by the Maglev table (takeovers), and flows that stayed in the cache of opening
  // ones because the connection table was full.
  struct NatTable {
    uint64_t opening = 0, established = 0, closing = 0, expired = 0, takeovers = 0, full = 0;
    // Opening flows the cache forgot to make room (a flood): counted from what entered it,
    // left it for the connection table, expired and is there now, as of the last sweep.
    uint64_t evicted = 0;
  };
  NatTable nat;
  std::vector<BackendStats> backends;
};

// Called on a forwarding thread (the engine): a backend refused, reset or timed out a new
// connection, or a UDP flow got a port-unreachable. The control plane should re-check it now.
using BackendFailure =
    std::function<void(size_t service, size_t backend, const std::string& reason)>;

class Forwarder {
 public:
  virtual ~Forwarder() = default;
  virtual const ProxyConfig& config() const = 0;
  virtual size_t threads() const = 0;
  virtual void set_backend_health(size_t service, size_t backend, bool healthy) = 0;
  // The operator's word at run time (control API, agent checks): new connections and flows
  // follow it at once; open ones keep their backend. True when it changed something (an
  // agent repeats itself every interval).
  virtual bool set_backend_admin(size_t service, size_t backend, AdminState state) = 0;
  virtual bool set_backend_weight(size_t service, size_t backend, uint32_t weight) = 0;
  // Resets the connections (and ends the flows) open to the backend now, within a sweep of
  // the forwarding threads: maint with --close. Address translation's flows are the
  // kernel's and are not closed.
  virtual void close_backend_connections(size_t service, size_t backend) = 0;
  // New connections are refused; open ones may finish until drain_time, then are reset.
  virtual void drain(size_t service) = 0;
  virtual void undrain(size_t service) = 0;
  virtual void drain_all() = 0;
  virtual uint64_t active_connections() const = 0;
  virtual ServiceStats stats(size_t service) const = 0;
  // A reload's new list of backends for a running service (backend_plan.hpp): what was
  // added, removed and changed, or why not (nothing changed then). config() shows the
  // service's backend slots afterwards, removed ones included.
  virtual Result<BackendChanges, std::string> reconfigure_backends(
      size_t service, const std::vector<BackendConfig>& backends) = 0;
};

}  // namespace anycastd::proxy
