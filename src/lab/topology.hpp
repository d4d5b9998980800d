#pragma once
// A lab topology as the YAML file describes it: ExpressRoute circuits (each an MSEE edge
// router), regions (a hub with route server and ExpressRoute gateway instances, its NVAs,
// spokes and backends), on-prem routers, clients, and scenarios of timed faults with the
// facts expected after them.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "rib/decision.hpp"

namespace anycastd::lab {

struct MseeSpec {
  std::string name;  // the circuit's name
  IpAddress address;
  uint32_t asn = 12076;
  // The vendor does not document its tie-break; seed 001 saw the lowest next hop win.
  std::vector<rib::TieBreak> tie_breaks{rib::TieBreak::lowest_next_hop};
  size_t ecmp = 1;
  bool remove_private_as = true;  // toward the customer edge
  // The CLI layout its table prints in: az-route-table, or az-route-table-2021 (seed 004's
  // Network, NextHop, LocPrf, Weight, Path).
  std::string table_format = "az-route-table";
};

struct SpokeSpec {
  std::string name;
  Prefix prefix;
  // Behind a forwarding device (Virtual WAN indirect spoke): reached through static routes
  // at the connection, so the hub's overlap check does not see it.
  bool indirect = false;
  std::optional<IpAddress> via;
  std::vector<uint32_t> route_map_prepend;  // Virtual WAN route map on the connection
  std::string answer;                       // what the spoke's application answers
};

struct HubSpec {
  std::string name;
  bool vwan = false;  // Virtual WAN hub instead of a customer-managed hub VNet
  std::vector<Prefix> prefixes;
  std::vector<IpAddress> route_servers;  // instances; both peer with every NVA
  uint16_t rs_hold_time = 180;
  bool branch_to_branch = true;
  uint32_t rs_max_routes = 4000;  // per NVA peer; the session is torn down above it
  size_t rs_max_peers = 8;
  std::vector<IpAddress> gateways;  // ExpressRoute gateway instances
  std::vector<std::string> circuits;
  std::vector<SpokeSpec> spokes;
};

struct BackendSpec {
  std::string name;
  Endpoint at;
  std::string answer;  // the HTTP body or DNS answer that names the region
};

struct NvaSpec {
  std::string name;
  IpAddress address;
  config::Config config;
};

struct RegionSpec {
  std::string name;
  Duration latency{};  // one-way, between this region's hub and the circuits
  HubSpec hub;
  std::vector<NvaSpec> nvas;
  std::vector<BackendSpec> backends;
};

struct RouterSpec {
  std::string name;
  IpAddress address;
  uint32_t asn = 0;
  std::vector<std::string> circuits;
  size_t ecmp = 1;  // > 1: equal routes share flows by a 5-tuple hash
  std::vector<Prefix> prefixes;
};

struct ClientSpec {
  std::string name;
  std::string router;
  Endpoint target;
  double rate = 20;  // requests per second, each a new flow
};

// One thing a step does to the network.
struct Action {
  enum class Kind {
    stop_bgp,         // the NVA's speaker shuts down cleanly (Cease), as stopping ExaBGP
    start_bgp,        // ... and starts again
    crash,            // the host loses power: no FIN, peers notice by their hold timers
    restore,          // a crashed host boots again
    fail_backend,     // the application answers errors (health checks fail)
    restore_backend,  //
    remove_peering,   // a spoke's VNet peering is removed: its prefix is withdrawn
    restore_peering,  //
    prepend,          // an NVA's VIP prepend changes (count)
    route_map,        // a spoke connection's route map prepends these ASNs
    export_policy,    // an NVA's sessions to its route servers take another export policy
    drain,            // an NVA drains every VIP (SIGUSR1): GRACEFUL_SHUTDOWN, then withdraw
    undrain,          // ... and stops draining (SIGUSR2)
    partition,        // the links between an NVA and its route servers lose every packet
    heal,             // ... and carry them again
    link_delay,       // one-way latency between an NVA and its route servers (a spike)
    freeze,           // an NVA stops answering anything, as a paused VM: no FIN, no BFD
    thaw,             // ... and answers again
    backend,          // an NVA's operator sets a backend's admin state or weight at run time
    reload,           // an NVA's operator reloads a new configuration (anycastctl reload)
  } kind;
  std::string target;
  std::string policy;
  uint32_t count = 0;
  std::vector<uint32_t> asns;
  Duration duration{};  // partition, freeze: undone by itself after this (0: never); link_delay
  // backend: the service, the backend (a lab backend's name, address:port or an address),
  // and the admin state or the weight to set, as `anycastctl backend` does.
  std::string service, backend, state;
  std::optional<uint32_t> weight;
  // reload: the NVA's new configuration, as its `config:` in the topology.
  std::shared_ptr<const config::Config> config;
  std::string describe() const;
};

struct MseeExpect {
  std::string circuit;
  Prefix prefix;
  std::optional<std::vector<std::string>> routes;  // "NEXTHOP PATH", any order
  std::optional<std::string> chosen_region;        // "none": no route at all
};

struct Expect {
  std::vector<MseeExpect> msee;
  std::map<std::string, std::string> served_by;  // client -> region ("none": failing)
  std::map<std::string, size_t> lost_max;        // client -> requests lost since the previous step
  // client -> the regions that answered it since the previous step (ECMP spreads flows)
  std::map<std::string, std::vector<std::string>> regions_served;
  // client -> the backends' answers it got since the previous step (which backends served)
  std::map<std::string, std::vector<std::string>> answers;
  // hub -> prefix -> whether its route servers hold it
  std::map<std::string, std::map<Prefix, bool>> route_server;
  // device -> prefix -> its routes as "NEXTHOP PATH" (`*` after a chosen next hop asserts
  // the choice too); an empty list: no route
  std::map<std::string, std::map<Prefix, std::vector<std::string>>> table;
};

struct Step {
  Duration at{};
  std::vector<Action> actions;
  std::optional<Expect> expect;
  bool show = true;  // print the tables at this step (`show: false` leaves them out)
  std::vector<std::string> show_devices;  // `show: [DEVICE, ...]`: these tables instead
  std::string note;
};

struct Scenario {
  std::string name;
  std::string description;
  std::vector<Step> steps;
  Duration end{};
};

struct Topology {
  std::string name;
  std::string description;
  std::string file;
  uint64_t seed = 1;
  Duration latency = std::chrono::milliseconds(1);  // one-way, inside a site
  std::vector<MseeSpec> circuits;
  std::vector<RegionSpec> regions;
  std::vector<RouterSpec> routers;
  std::vector<ClientSpec> clients;
  std::vector<Scenario> scenarios;
  // Devices that reuse another hub's address run on an alias; this maps it back to the
  // file's address, which is what every table and report shows.
  std::map<IpAddress, IpAddress> shown;

  const Scenario* scenario(const std::string& name) const;
  IpAddress show(const IpAddress& a) const {
    auto it = shown.find(a);
    return it == shown.end() ? a : it->second;
  }
};

// Reads and validates a topology; errors name file:line:column and the field, and the
// cloud's own limits (route server peers, 16-bit NVA ASNs, overlapping Virtual WAN spokes)
// are refused with the cloud's words.
Result<Topology, config::ConfigError> load_topology(const std::string& path);
Result<Topology, config::ConfigError> load_topology_string(const std::string& text,
                                                           const std::string& name);

}  // namespace anycastd::lab
