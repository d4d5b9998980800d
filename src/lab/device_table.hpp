#pragma once
// One device's routes as rows (what `--json` carries and `expect: table` asserts), and
// their text in the layout of the tool a network engineer would read them with: the Azure
// CLI for the cloud's devices (the seeds' own output), FRR's `show ip bgp` for on-prem.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ip.hpp"

namespace anycastd::lab {

struct TableRow {
  Prefix prefix;
  std::string next_hop;           // empty: originated here
  std::vector<std::string> path;  // AS numbers, first the nearest
  std::optional<uint32_t> local_pref;
  std::optional<uint32_t> med;
  uint32_t weight = 0;
  std::string bgp_origin = "i";  // the ORIGIN attribute as FRR codes it: i, e or ?
  bool best = false;             // the route the device forwards on
  bool ecmp = false;             // in the multipath set beside (or as) the best
  std::string origin;            // EBgp, IBgp or Network, as the CLI's learned-routes say
  std::string source_peer;    // address of the session it came from; the device's own for Network
  std::string source_name;    // that peer's device name
  std::string local_address;  // the instance that holds it (route servers, gateways)
  std::string instance;       // that instance's role name, as the CLI labels it
  bool operator==(const TableRow&) const = default;
};

struct DeviceTable {
  std::string device;  // the name `show` and `expect: table` use
  std::string kind;    // msee, router, route-server, er-gateway, vwan-hub
  std::string title;
  std::string format;  // which tool's layout `text()` uses (docs/lab.md lists them)
  std::vector<TableRow> rows;
  bool down = false;  // the device is down: no rows
  bool operator==(const DeviceTable&) const = default;

  std::string text() const;
  // A row as an expectation names it: "NEXTHOP PATH", with `*` after a chosen next hop.
  static std::string route(const TableRow& r);
};

// The formats, by name: az-route-table (seed 001's CLI), az-route-table-2021 (seed 004's),
// learned-routes-json (`az network routeserver peering list-learned-routes`),
// gateway-learned-routes (`az network vnet-gateway list-learned-routes -o table`),
// vhub-effective-routes (`az network vhub get-effective-routes`), frr (`show ip bgp`).
bool known_table_format(const std::string& f);

nlohmann::json to_json(const DeviceTable& t);
// The inverse of to_json; nullopt (and `error` set) when a field is missing or malformed.
std::optional<DeviceTable> table_from_json(const nlohmann::json& j, std::string& error);

}  // namespace anycastd::lab
