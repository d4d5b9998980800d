#pragma once
// One emulated device of a SimLab: what it is, where it sits, and its running parts.
#include <list>

#include "lab/sim_lab.hpp"

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
  // gateway: the hub it serves, and which spokes it currently reaches
  const HubSpec* hub_spec = nullptr;
  std::set<std::string> removed_spokes;
  // nva
  const NvaSpec* nva = nullptr;
  std::unique_ptr<health::Monitor> monitor;
  bool bgp_stopped = false;
  // backend
  const BackendSpec* backend = nullptr;
  bool failed = false;
  std::unique_ptr<Listener> listener;
  std::list<std::unique_ptr<HttpConnection>> connections;
  // msee: the last best next hop per watched prefix, to report changes only
  std::map<Prefix, std::string> last_best;
};

}  // namespace anycastd::lab
