#pragma once
// One request to a running anycastd over its control socket, blocking: what anycastctl and
// the live lab send.
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace anycastd::api {

// The daemon's answer, or nullopt with `err` saying why (no daemon, timeout, garbage).
std::optional<nlohmann::json> ask(const std::string& socket_path, const nlohmann::json& request,
                                  std::string& err,
                                  std::chrono::seconds timeout = std::chrono::seconds(10));

}  // namespace anycastd::api
