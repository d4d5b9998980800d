#pragma once
// What a scenario runs on: the simulated lab (one process, virtual time) or the live one
// (anycastd processes on loopback, real time). Both answer the same questions about
// their devices; only the simulated one forwards clients' requests.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lab/device_table.hpp"
#include "lab/topology.hpp"
#include "runtime/loop.hpp"

namespace anycastd::lab {

struct Event {
  Duration at{};     // since the start
  std::string kind;  // action, check, announce, session, msee-best, served, lost, error
  std::string text;
};

// What happened to one request.
struct Outcome {
  bool ok = false;
  std::string region;  // of the answering backend or spoke
  std::string answer;
  std::string why;                // when it failed
  std::vector<std::string> hops;  // node names along the way
  Duration rtt{};
};

class Lab {
 public:
  virtual ~Lab() = default;
  virtual Status<> start() = 0;
  virtual void apply(const Action& a) = 0;
  virtual Loop& loop() = 0;
  // Runs the lab until `t` after its start.
  virtual void run_until(Duration t) = 0;
  virtual Duration elapsed() const = 0;
  virtual std::string mode() const = 0;

  // Forwards one request (a new flow) from a client's router toward its target; `done`
  // gets what happened (at once in the simulator, when the answer arrives live).
  virtual void request(const ClientSpec& c, uint64_t flow, std::function<void(Outcome)> done) = 0;

  // A device's table (build_table names them); nullopt for a name no device has.
  virtual std::optional<DeviceTable> table(const std::string& device) const = 0;
  // The MSEE's routes for a prefix as "NEXTHOP PATH", and the region its best leads to.
  virtual std::vector<std::string> msee_routes(const std::string& circuit,
                                               const Prefix& p) const = 0;
  virtual std::string msee_chosen_region(const std::string& circuit, const Prefix& p) const = 0;
  virtual bool route_server_has(const std::string& hub, const Prefix& p) const = 0;

  std::function<void(const Event&)> on_event;
};

}  // namespace anycastd::lab
