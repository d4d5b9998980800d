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
#include "lab/lab.hpp"
#include "runtime/scoped_posts.hpp"
#include "runtime/sim/sim_network.hpp"

namespace anycastd::lab {

class SimLab : public Lab {
 public:
  explicit SimLab(const Topology& t);
  ~SimLab();

  // Starts every speaker, check and backend; fails when a listener cannot be set up.
  Status<> start() override;
  void apply(const Action& a) override;
  sim::SimLoop& loop() override { return loop_; }
  void run_until(Duration t) override { loop_.run_until(start_ + t); }
  Duration elapsed() const override { return loop_.now() - start_; }
  std::string mode() const override { return "sim"; }
  void request(const ClientSpec& c, uint64_t flow, std::function<void(Outcome)> done) override;

  std::optional<DeviceTable> table(const std::string& device) const override;
  std::vector<std::string> msee_routes(const std::string& circuit, const Prefix& p) const override;
  std::string msee_chosen_region(const std::string& circuit, const Prefix& p) const override;
  bool route_server_has(const std::string& hub, const Prefix& p) const override;

  const Topology& topology() const { return t_; }
  // Every device with its role settings: the live lab starts processes from these.
  struct Node;
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  // A configuration action's effect: the devices whose peers or originated routes change,
  // with the routes they now originate. Updates the devices' settings; applies nothing.
  struct Change {
    Node* node;
    std::vector<bgp::VipConfig> vips;
  };
  std::vector<Change> change(const Action& a);

  // A request's way through the routers' tables to the NVA that gets it (`nva`), or to a
  // spoke's answer (outcome ok), or to where it died. `next_hop` reads a device's table.
  using NextHop =
      std::function<std::optional<IpAddress>(const Node&, const IpAddress& dst, uint64_t flow)>;
  struct Walk {
    Outcome outcome;
    const Node* nva = nullptr;
    // What holds the connection's state: the NVA's proxy, or a spoke's application in one
    // hub. A flow whose packets start reaching another one is reset there.
    std::string endpoint;
  };
  Walk walk(const ClientSpec& c, uint64_t flow, const NextHop& next_hop) const;

 private:
  void emit(std::string kind, std::string text);
  Walk walk_now(const ClientSpec& c, uint64_t flow) const;
  // The second half of a request, when its data reaches the NVA that took its handshake.
  void serve(const ClientSpec& c, uint64_t flow, Walk w, std::function<void(Outcome)> done);
  void build();
  void start_speaker(Node& n);
  config::Config nva_config(const Node& n) const;
  void start_nva(Node& n);
  void stop_nva(Node& n, bool crash);
  void start_backend(Node& n);
  Node* node(const std::string& name);
  const Node* by_address(const IpAddress& a) const;
  const rib::Path* route(const Node& n, const IpAddress& dst, uint64_t flow) const;
  void watch_msee(Node& n);
  void links_to_route_servers(Node& n, const Action& a);

  Topology t_;
  sim::SimLoop loop_;
  sim::SimNetwork net_;
  TimePoint start_{};
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Node*> by_name_;
  std::map<IpAddress, Node*> by_address_;
  ScopedPosts later_{loop_};  // a timed fault's end (thaw, heal): dies with the lab
};

}  // namespace anycastd::lab
