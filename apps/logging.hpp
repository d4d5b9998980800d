#pragma once
// Log levels per subsystem: `--log-level info,bgp=debug,health=warn` sets the default and
// then named ones. Subsystems: bgp, health, proxy, fib, api.
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

#include "daemon/log.hpp"
#include "json_log_formatter.hpp"

namespace anycastd {

inline const char* const kSubsystems[] = {"bgp", "health", "proxy", "fib", "api"};

// "" when the spec is good; otherwise what is wrong with it, for the command line error.
inline std::string setup_logging(const std::string& spec, bool json) {
  auto level_of = [](const std::string& s, spdlog::level::level_enum& out) {
    for (auto [name, l] : {std::pair{"trace", spdlog::level::trace},
                           {"debug", spdlog::level::debug},
                           {"info", spdlog::level::info},
                           {"warn", spdlog::level::warn},
                           {"error", spdlog::level::err}})
      if (s == name) return out = l, true;
    return false;
  };
  auto base = spdlog::level::info;
  std::vector<std::pair<std::string, spdlog::level::level_enum>> named;
  std::istringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    auto eq = item.find('=');
    spdlog::level::level_enum l;
    if (!level_of(eq == std::string::npos ? item : item.substr(eq + 1), l))
      return "'" + item + "': a level is trace, debug, info, warn or error";
    if (eq == std::string::npos) {
      base = l;
      continue;
    }
    auto name = item.substr(0, eq);
    if (std::none_of(std::begin(kSubsystems), std::end(kSubsystems),
                     [&](const char* s) { return name == s; }))
      return "'" + name + "': a subsystem is bgp, health, proxy, fib or api";
    named.emplace_back(name, l);
  }
  if (json)
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>());
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(base);
  for (const char* s : kSubsystems) {
    auto l = spdlog::default_logger()->clone(s);
    l->set_level(base);
    for (const auto& [name, lvl] : named)
      if (name == s) l->set_level(lvl);
    spdlog::register_logger(l);
  }
  // Each line is written as it is logged, as BIRD and HAProxy do: a log read live (a file,
  // journald's pipe) sees it at once, and a process that dies keeps every line it said.
  spdlog::flush_on(spdlog::level::trace);
  // The default logger passes everything its subsystems might: each filters for itself.
  return "";
}

}  // namespace anycastd
