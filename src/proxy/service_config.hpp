#pragma once
// The `services:` section: what the proxy listens on and where it forwards.
#include <chrono>
#include <string>
#include <vector>

#include "proxy/balancer.hpp"
#include "runtime/transport.hpp"

namespace anycastd::proxy {

enum class Protocol : uint8_t { tcp, udp };

// Who moves the bytes: the forwarding threads (user); for TCP, a BPF sockmap once a
// connection is established (kernel), or that where it can be loaded (automatic); or a tc
// program translating addresses, as LVS-NAT does (nat: the backends see the clients).
enum class Forwarding : uint8_t { automatic, kernel, user, nat };
inline const char* to_string(Forwarding f) {
  switch (f) {
    case Forwarding::kernel:
      return "kernel";
    case Forwarding::user:
      return "user";
    case Forwarding::nat:
      return "nat";
    case Forwarding::automatic:
      break;
  }
  return "auto";
}

inline constexpr size_t kNatBackends = 64;  // `forwarding: nat`'s table size

struct BackendConfig {
  Endpoint endpoint;
  uint32_t weight = 1;
  // Health checks (by name) that must all be up for the backend to be used; none: always.
  std::vector<std::string> checks;
  std::string name() const { return endpoint.to_string(); }
};

struct ServiceConfig {
  std::string name;
  Endpoint listen;
  Protocol protocol = Protocol::tcp;
  Balance balance = Balance::round_robin;
  HashOn hash = HashOn::client;
  std::vector<BackendConfig> backends;
  Duration connect_timeout = std::chrono::seconds(2);
  Duration idle_timeout = std::chrono::seconds(60);  // udp: a flow's life without traffic
  uint32_t max_connections = 4096;
  bool proxy_protocol = false;  // PROXY v2 header toward the backends (tcp)
  bool splice = false;          // zero-copy forwarding through a kernel pipe (tcp, user path)
  // udp: user or nat. nat is taken only where a service says so itself: its backends see the
  // clients' addresses and must answer through this host.
  Forwarding forwarding = Forwarding::automatic;
  Duration drain_time = std::chrono::seconds(10);  // how long open connections may finish
  uint32_t retries = 1;      // another backend after a failed connect (not with maglev)
  bool add_address = false;  // put the listen address on `lo` at start, take it off at exit
};

struct ProxyConfig {
  std::vector<ServiceConfig> services;
  uint32_t threads = 0;                           // 0: one per core
  Forwarding forwarding = Forwarding::automatic;  // for services that do not say
  // A directory on a bpf filesystem where forwarding: nat's connection tables outlive the
  // process, for the next one to adopt; empty: they die with it.
  std::string nat_state;
};

}  // namespace anycastd::proxy
