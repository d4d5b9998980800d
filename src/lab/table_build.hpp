#pragma once
// Every device's table, built the same way from the simulator's RIBs and from the live
// daemons' `show routes`, so that the two can be compared row by row.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lab/device_table.hpp"
#include "lab/sim_lab.hpp"

namespace anycastd::lab {

// One Loc-RIB path, most preferred first within its prefix.
struct RibRoute {
  Prefix prefix;
  std::optional<IpAddress> next_hop;
  std::vector<std::string> path;
  std::optional<IpAddress> from;  // none: originated by the device
  bool best = false;
  bool multipath = false;
  std::optional<uint32_t> local_pref, med;
  std::string origin = "i";
};

struct TableSource {
  const Topology& topology;
  const std::vector<std::unique_ptr<SimLab::Node>>& nodes;
  // A device's Loc-RIB; nullopt while it is down.
  std::function<std::optional<std::vector<RibRoute>>(const SimLab::Node&)> routes;
  std::function<const SimLab::Node*(const IpAddress&)> at;
};

// The table of `device` (a router, `msee-CIRCUIT` or the circuit's name, a hub for its
// route servers or, in Virtual WAN, its hub router, `HUB-gw` for its ExpressRoute
// gateway); nullopt when no device has that name.
std::optional<DeviceTable> build_table(const TableSource& s, const std::string& device);

// The devices `show: true` prints, in the file's order: every MSEE, every on-prem router,
// the route servers of each hub with NVAs and every Virtual WAN hub. With `all`, also the
// ExpressRoute gateways and hubs without NVAs.
std::vector<std::string> shown_devices(const Topology& t, bool all = false);
// Every name build_table knows, for the loader's errors.
std::vector<std::string> table_devices(const Topology& t);

// A Loc-RIB's paths as RibRoutes, for the simulator.
std::vector<RibRoute> rib_routes(const rib::Rib& rib);
// An MSEE's rows, in the order the modern CLI lists them (the chosen path first); with `t`,
// next hops shown as its file has them.
std::vector<TableRow> msee_rows(const std::vector<RibRoute>& routes, const Topology* t = nullptr);

}  // namespace anycastd::lab
