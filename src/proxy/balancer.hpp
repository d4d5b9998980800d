#pragma once
// Backend choice for one service, sans-I/O: round robin (smooth, weighted), least
// connections (weighted) and Maglev consistent hashing. A forwarding thread owns its
// Balancer; the control plane hands it a new view whenever health changes.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/ip.hpp"

namespace anycastd::proxy {

enum class Balance : uint8_t { round_robin, least_conn, maglev };
// What Maglev hashes: the client address alone keeps every connection of a client on one
// backend (session persistence); the 5-tuple spreads one client's connections.
enum class HashOn : uint8_t { client, five_tuple };

struct FlowKey {
  IpAddress src;
  uint16_t src_port = 0;
  IpAddress dst;
  uint16_t dst_port = 0;
  uint8_t protocol = 6;
};
uint64_t flow_hash(const FlowKey& k, HashOn on);

struct BackendView {
  std::string name;  // stable identity: Maglev's permutation comes from it
  uint32_t weight = 1;
  bool healthy = true;
};

class MaglevTable;

class Balancer {
 public:
  virtual ~Balancer() = default;
  // The backend for a new flow, or nullopt when none is healthy (weight 0 never serves).
  virtual std::optional<uint32_t> pick(const FlowKey& k) = 0;
  // Health or weights changed; the list's order and length are the service's, fixed.
  // `maglev`, when given, is the table already built for these backends.
  virtual void update(std::span<const BackendView> backends,
                      std::shared_ptr<const MaglevTable> maglev = nullptr) = 0;
  virtual void opened(uint32_t) {}
  virtual void closed(uint32_t) {}
};

// Where least-connections reads a backend's open connections. Without one it counts its own
// opened()/closed(); a forwarding thread passes the service-wide counts every thread keeps,
// so that the threads balance together rather than each over its own connections.
using OpenConnections = std::function<uint64_t(uint32_t backend)>;

// `maglev` may be shared by every thread of a service: it is immutable once built.
std::unique_ptr<Balancer> make_balancer(Balance b, HashOn on, std::span<const BackendView> backends,
                                        std::shared_ptr<const MaglevTable> maglev = nullptr,
                                        OpenConnections open = nullptr);

}  // namespace anycastd::proxy
