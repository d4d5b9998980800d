#pragma once
// Reading HAProxy's `show stat` CSV: one server's (or backend's) status column.
#include <optional>
#include <string>
#include <string_view>

namespace anycastd::health {

// The status text of pxname/svname ("UP", "DOWN 1/2", "MAINT", "no check"); nullopt when
// the CSV lacks a header with a status column or the row is not there.
std::optional<std::string> haproxy_status(std::string_view csv, std::string_view backend,
                                          std::string_view server);

// Whether HAProxy would send traffic to a server in that status: UP (also "UP 1/3", still
// up while going down), "no check" and OPEN; DOWN, NOLB, MAINT and DRAIN are not.
bool haproxy_status_up(std::string_view status);

}  // namespace anycastd::health
