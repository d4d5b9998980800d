#pragma once
// Runs one scenario on a simulated topology: clients send requests at their rate, steps
// inject faults at their times and check what the file expects, and every change worth
// seeing (fault, check, withdraw, MSEE best, region serving) lands on the timeline.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lab/lab.hpp"

namespace anycastd::lab {

struct RequestRecord {
  Duration at{};
  size_t client = 0;
  bool ok = false;
  std::string region;  // answering region, or empty
  std::string why;     // failure reason
  Duration rtt{};
  std::string answer;  // what the application said: which backend served it
};

struct StepRecord {
  Duration at{};
  std::string note;
  std::vector<std::string> actions;
  std::vector<DeviceTable> tables;
  std::vector<std::string> checked;  // expectations that held
  std::vector<std::string> failed;   // and those that did not
  // With RunOptions::snapshots: the MSEEs' and route servers' tables at this step (before
  // its actions), which the report's drawing reads; not in --json.
  std::vector<DeviceTable> snapshot;
};

// What one fault did to one client, in lab time.
struct FaultRecord {
  Duration at{};
  std::string action;
  std::string client;
  std::string before;                 // region serving just before
  std::string after;                  // region serving at the end of the window
  std::optional<Duration> switched;   // until the first request served by another region
  std::optional<Duration> recovered;  // until requests succeed again, if any failed
  size_t lost = 0;
  size_t sent = 0;
};

struct RunResult {
  std::string topology, scenario, description, mode = "sim";
  uint64_t seed = 0;
  Duration end{};
  std::vector<Event> events;
  std::vector<RequestRecord> requests;
  std::vector<std::string> clients;
  std::vector<StepRecord> steps;
  std::vector<FaultRecord> faults;
  std::vector<std::string> failures;  // expectations that did not hold, and setup errors
  double wall_seconds = 0;
  bool ok() const { return failures.empty(); }
};

struct RunOptions {
  std::string mode = "sim";  // or "live": anycastd processes on loopback, real time
  std::string anycastd;      // live: the daemon binary
  uint16_t port = 23179;     // live: the BGP port every device listens on
  bool show_all = false;     // tables at every step, not only where the file says `show`
  bool snapshots = false;    // keep StepRecord::snapshot (for --report)
  std::function<void(const std::string&)> progress;
};

RunResult run_scenario(const Topology& t, const Scenario& s, const RunOptions& opt = {});

}  // namespace anycastd::lab
