#pragma once
// One emulated device of a SimLab: what it is, where it sits, and its running parts.
#include <list>

#include "daemon/daemon.hpp"
#include "lab/sim_forwarder.hpp"
#include "lab/sim_lab.hpp"
#include "lab/sim_platform.hpp"

namespace anycastd::lab {

class HttpConnection;

struct SimLab::Node {
  enum class Kind { route_server, gateway, msee, router, nva, backend } kind;
  std::string name;
  std::string region;  // empty for circuits and on-prem routers
  std::string hub;
  IpAddress address;
  std::unique_ptr<Transport> transport;
  bgp::SpeakerConfig speaker_cfg;
  std::unique_ptr<bgp::Speaker> speaker;
  size_t ecmp = 1;
  bool crashed = false;
  bool frozen = false;  // isolated from every host; its own timers keep running
  // gateway: the hub it serves, and which spokes it currently reaches
  const HubSpec* hub_spec = nullptr;
  std::set<std::string> removed_spokes;
  // nva: the daemon users run, on the lab's machine
  NvaSpec* nva = nullptr;  // in the lab's own copy of the topology: a reload changes it
  std::unique_ptr<SimPlatform> platform;
  std::unique_ptr<daemon::Daemon> daemon;
  // backend
  const BackendSpec* backend = nullptr;
  bool failed = false;
  std::unique_ptr<Listener> listener;
  std::list<std::unique_ptr<HttpConnection>> connections;
  // msee: the last best next hop per watched prefix, to report changes only
  std::map<Prefix, std::string> last_best;

  // The device's BGP speaker, whoever runs it; null while it is down.
  const bgp::Speaker* bgp() const {
    if (daemon) return daemon->bgp_running() ? daemon->speaker() : nullptr;
    return speaker.get();
  }
  SimForwarder* forwarder() const {
    return daemon ? static_cast<SimForwarder*>(daemon->forwarder()) : nullptr;
  }
  const health::Monitor* monitor() const { return daemon ? daemon->monitor() : nullptr; }
};

}  // namespace anycastd::lab
