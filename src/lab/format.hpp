#pragma once
// A scenario's results for people (text), for programs (--json) and for a browser
// (--report: one self-contained HTML page).
#include <string>

#include <nlohmann/json.hpp>

#include "lab/scenario_run.hpp"

namespace anycastd::lab {

// Seconds with millisecond precision: "10.004".
std::string secs(Duration d);

std::string text_report(const RunResult& r);
nlohmann::json json_report(const RunResult& r);
std::string html_report(const Topology& t, const RunResult& r);

}  // namespace anycastd::lab
