#pragma once
// One health check as configured (`checks:` in the config file).
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "runtime/transport.hpp"

namespace anycastd::health {

enum class CheckType { tcp, http, exec, dns, haproxy, agent };

struct HttpSettings {
  std::string path = "/";
  std::string host;                // Host header; the target address when empty
  std::vector<int> statuses{200};  // any of these is a success
  std::string body;                // substring the body must contain; empty: not checked
  bool keep_alive = true;          // one connection for all checks while the server allows
  bool operator==(const HttpSettings&) const = default;
};

struct DnsSettings {
  std::string name;    // the name to ask for
  uint16_t qtype = 1;  // A
  uint8_t rcode = 0;   // NOERROR
  std::string answer;  // a record the answer must hold ("1.1.1.1"); empty: not checked
  bool operator==(const DnsSettings&) const = default;
};

// A server's status in HAProxy's `show stat` (the stats socket, `level user` is enough).
struct HaproxySettings {
  std::string socket;   // Unix socket path; empty: the TCP target (`stats socket ipv4@...`)
  std::string backend;  // pxname
  std::string server;   // svname; "BACKEND" for the backend as a whole
  bool operator==(const HaproxySettings&) const = default;
};

// HAProxy's agent-check: connect, send `send` if set (HAProxy's agent-send), read one line.
struct AgentSettings {
  std::string send;
  bool operator==(const AgentSettings&) const = default;
};

struct CheckConfig {
  std::string name;
  CheckType type = CheckType::tcp;
  Endpoint target;                  // tcp, http, dns; haproxy without a socket path
  std::optional<IpAddress> source;  // local address to connect from
  std::vector<std::string> argv;    // exec: run directly, no shell
  HttpSettings http;
  DnsSettings dns;
  HaproxySettings haproxy;
  AgentSettings agent;
  Duration interval = std::chrono::seconds(1);
  Duration timeout = std::chrono::seconds(1);  // at most interval
  Duration jitter{};                           // each check runs at its slot ± up to this
  uint32_t rise = 2;
  uint32_t fall = 3;
  // Event-driven detection: hold a connection to the target and re-check at
  // fast-interval as soon as it closes or resets (tcp and http).
  bool watch = true;
  Duration fast_interval = std::chrono::milliseconds(20);
  bool operator==(const CheckConfig&) const = default;
};

}  // namespace anycastd::health
