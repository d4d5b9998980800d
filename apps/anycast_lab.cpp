// anycast-lab: builds a topology, runs a scenario and reports what the network did.
// Exit codes: 0 every expectation held, 1 some did not, 2 bad usage or topology file,
// 3 the lab itself failed (a bug: the message says where).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "lab/format.hpp"
#include "lab/topology.hpp"

using namespace anycastd;

int main(int argc, char** argv) {
  CLI::App app{"anycast-lab: prove an anycast design before deploying it"};
  app.set_version_flag("--version", std::string("anycast-lab ") + ANYCASTD_VERSION);
  std::string file, scenario, report, mode = "sim";
  bool json = false, list = false, show_all = false, quiet = false, all = false;
  bool verbose = false;
  app.add_option("topology", file, "topology YAML (examples/lab/*.yaml)")->required();
  app.add_option("-s,--scenario", scenario, "scenario to run (default: the first)");
  app.add_flag("-a,--all", all, "run every scenario in the file");
  uint16_t port = 23179;
  app.add_option("-m,--mode", mode,
                 "sim (virtual time, one process), live (anycastd processes on loopback, "
                 "real time) or netns (a network namespace per device, kernel forwarding; root)")
      ->check(CLI::IsMember({"sim", "live", "netns"}));
  app.add_option("--port", port, "live: the BGP port every device listens on")
      ->capture_default_str();
  app.add_flag("--json", json, "print machine-readable results instead of text");
  app.add_option("--report", report, "write a self-contained HTML report to this file");
  app.add_flag("--show-all", show_all, "print the route tables at every step");
  app.add_flag("-l,--list", list, "list the scenarios and exit");
  app.add_flag("-q,--quiet", quiet, "no progress lines");
  app.add_flag("-v,--verbose", verbose, "log every router's BGP messages (lab time is virtual)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // Hundreds of emulated speakers log alike; the timeline says what matters.
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::err);
  auto t = lab::load_topology(file);
  if (!t) {
    std::cerr << "anycast-lab: " << t.error().to_string() << "\n";
    return 2;
  }
  if (list) {
    for (const auto& s : t->scenarios)
      std::cout << s.name << (s.description.empty() ? "" : "  -- " + s.description) << "\n";
    return 0;
  }
  std::vector<const lab::Scenario*> run;
  if (all) {
    for (const auto& s : t->scenarios) run.push_back(&s);
  } else if (!scenario.empty()) {
    const auto* s = t->scenario(scenario);
    if (!s) {
      std::cerr << "anycast-lab: " << file << ": no scenario named '" << scenario
                << "' (--list shows them)\n";
      return 2;
    }
    run.push_back(s);
  } else if (!t->scenarios.empty()) {
    run.push_back(&t->scenarios.front());
  }
  if (run.empty()) {
    std::cerr << "anycast-lab: " << file << ": no scenarios\n";
    return 2;
  }
  lab::RunOptions opt;
  opt.show_all = show_all;
  opt.snapshots = !report.empty();
  opt.mode = mode;
  opt.port = port;
  // The daemon that live mode starts: the one built or installed next to this program.
  opt.anycastd = (std::filesystem::canonical("/proc/self/exe").parent_path() / "anycastd").string();
  if (!std::filesystem::exists(opt.anycastd))
    opt.anycastd = (std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() /
                    "sbin" / "anycastd")
                       .string();
  if (!quiet && !json) opt.progress = [](const std::string& s) { std::cerr << s << "\n"; };
  bool ok = true;
  nlohmann::json results = nlohmann::json::array();
  std::string html;
  // Caught so that the stack unwinds: a live or netns run stops its processes and removes
  // its namespaces on the way out, whatever went wrong.
  try {
    for (const auto* s : run) {
      if (opt.progress) opt.progress("running " + t->name + " / " + s->name);
      auto r = lab::run_scenario(*t, *s, opt);
      ok &= r.ok();
      if (json) {
        results.push_back(lab::json_report(r));
      } else {
        std::cout << lab::text_report(r) << (run.size() > 1 ? "\n" : "");
      }
      if (!report.empty() && html.empty()) html = lab::html_report(*t, r);
    }
  } catch (const std::exception& e) {
    std::cerr << "anycast-lab: internal error, run abandoned: " << e.what() << "\n";
    return 3;
  }
  if (json) std::cout << (results.size() == 1 ? results[0] : results).dump(2) << "\n";
  if (!report.empty()) {
    std::ofstream out(report);
    out << html;
    if (!out) {
      std::cerr << "anycast-lab: cannot write " << report << "\n";
      return 2;
    }
    if (!quiet && !json) std::cerr << "report written to " << report << "\n";
  }
  return ok ? 0 : 1;
}
