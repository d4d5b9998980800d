#pragma once
// A topology running in one process under virtual time: every router is the real BGP
// speaker over in-memory links, with role settings (Azure Route Server, ExpressRoute
// gateway, MSEE, on-prem router); every NVA is the real speaker plus the real health
// checks, probing backends that answer HTTP over the same links. A request is forwarded
// hop by hop through the routers' Loc-RIBs, so it goes where the routing sends it.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bgp/speaker.hpp"
#include "health/monitor.hpp"
#include "lab/topology.hpp"
#include "runtime/sim/sim_network.hpp"

namespace anycastd::lab {

struct Event {
  Duration at{};     // since the start
  std::string kind;  // fault, check, announce, session, msee-best, served, lost
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

class SimLab {
 public:
  explicit SimLab(const Topology& t);
  ~SimLab();

  // Starts every speaker, check and backend; fails when a listener cannot be set up.
  Result<bool, std::string> start();
  void apply(const Action& a);

  sim::SimLoop& loop() { return loop_; }
  Duration elapsed() const { return loop_.now() - start_; }
  const Topology& topology() const { return t_; }

  // Forwards one request (a new flow) from a client's router toward its target.
  Outcome request(const ClientSpec& c, uint64_t flow) const;

  // The circuit's MSEE table as `az network express-route list-route-tables -o table`.
  std::string msee_table(const std::string& circuit) const;
  std::string router_table(const std::string& router) const;
  // What each of a hub's route server instances learned, as the portal lists it.
  std::string route_server_table(const std::string& hub) const;
  // The MSEE's routes for a prefix as "NEXTHOP PATH", and the region its best leads to.
  std::vector<std::string> msee_routes(const std::string& circuit, const Prefix& p) const;
  std::string msee_chosen_region(const std::string& circuit, const Prefix& p) const;
  bool route_server_has(const std::string& hub, const Prefix& p) const;

  std::function<void(const Event&)> on_event;

  struct Node;

 private:
  void emit(std::string kind, std::string text);
  void build();
  void start_speaker(Node& n);
  void start_nva(Node& n);
  void stop_nva(Node& n, bool crash);
  void start_backend(Node& n);
  Node* node(const std::string& name);
  const Node* by_address(const IpAddress& a) const;
  const rib::Path* route(const Node& n, const IpAddress& dst, uint64_t flow) const;
  void watch_msee(Node& n);

  Topology t_;
  sim::SimLoop loop_;
  sim::SimNetwork net_;
  TimePoint start_{};
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Node*> by_name_;
  std::map<IpAddress, Node*> by_address_;
};

}  // namespace anycastd::lab
