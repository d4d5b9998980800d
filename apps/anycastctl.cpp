// anycastctl: asks a running anycastd over its control socket and prints the answer as
// aligned tables (or the JSON itself with -j). Exit codes: 0 done, 1 the daemon refused
// (the reason is printed), 2 bad usage, 3 no daemon on the socket.
#include <CLI/CLI.hpp>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/control_client.hpp"

using nlohmann::json;

namespace {

std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d < 0) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", d);
    return b;
  }
  return v.dump();
}

// birdc-style: a header row, then columns padded to their widest cell.
void table(const std::vector<std::pair<std::string, std::string>>& cols, const json& rows,
           const std::string& indent = "") {
  std::vector<std::vector<std::string>> cells{{}};
  for (const auto& [title, key] : cols) cells[0].push_back(title);
  for (const auto& r : rows) {
    cells.emplace_back();
    for (const auto& [title, key] : cols)
      cells.back().push_back(r.contains(key) ? cell(r[key]) : "");
  }
  std::vector<size_t> w(cols.size(), 0);
  for (const auto& row : cells)
    for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
  for (const auto& row : cells) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i)
      line += row[i] + (i + 1 < row.size() ? std::string(w[i] - row[i].size() + 2, ' ') : "");
    std::cout << line << "\n";
  }
}

void print(const std::string& what, const json& a) {
  if (what == "routes") {
    json rows = json::array();
    for (auto r : a["routes"]) {
      // birdc's markers: * the best path, = another equal path kept for ECMP.
      r["mark"] = r.value("best", false) ? "*" : r.value("multipath", false) ? "=" : "";
      std::string c;
      for (const auto& x : r["communities"]) c += (c.empty() ? "" : " ") + x.get<std::string>();
      r["communities_text"] = c;
      for (const char* k : {"local_pref", "med"})
        if (r[k].is_null()) r[k] = "";
      rows.push_back(r);
    }
    const char* peer_col = a["view"] == "advertised" ? "to" : "from";
    table({{"", "mark"},
           {"Prefix", "prefix"},
           {a["view"] == "advertised" ? "To" : "From", peer_col},
           {"AS path", "as_path"},
           {"Next hop", "next_hop"},
           {"LocPref", "local_pref"},
           {"MED", "med"},
           {"Communities", "communities_text"}},
          rows);
  } else if (what == "peers") {
    json rows = a["peers"];
    for (auto& r : rows) {
      r["updates"] = cell(r["updates_in"]) + "/" + cell(r["updates_out"]);
      // As BIRD's `show protocols`: an Idle peer says how long before it tries again.
      if (r["retry_in_seconds"].is_number())
        r["retry"] = cell(r["retry_in_seconds"]) + " s (" + cell(r["errors_in_a_row"]) + " errors)";
      // As FRR's `show bgp neighbors`: the timers in force, and what each side offered.
      if (r["hold_time"].is_number())
        r["timers"] = cell(r["hold_time"]) + "/" + cell(r["keepalive"]) + " (ours " +
                      cell(r["configured_hold_time"]) + ", peer's " + cell(r["peer_hold_time"]) +
                      ")";
    }
    table({{"Peer", "address"},
           {"AS", "remote_as"},
           {"State", "state"},
           {"Since(s)", "since_seconds"},
           {"Accepted", "accepted"},
           {"Sent", "advertised"},
           {"UPDATEs in/out", "updates"},
           {"Retry in", "retry"},
           {"Hold/KA", "timers"},
           {"Password", "password"},
           {"BFD", "bfd"},
           {"Last error", "last_error"}},
          rows);
  } else if (what == "bfd") {
    json rows = a["bfd"];
    for (auto& r : rows) {
      // As FRR's `show bfd peers`: what was asked and what the neighbour answered.
      r["intervals"] =
          cell(r["min_tx_ms"]) + "/" + cell(r["min_rx_ms"]) + " x" + cell(r["multiplier"]);
      r["remote"] = cell(r["remote_min_tx_ms"]) + "/" + cell(r["remote_min_rx_ms"]) + " x" +
                    cell(r["remote_multiplier"]);
      if (!r.value("error", std::string()).empty()) r["local_diagnostic"] = r["error"];
    }
    table({{"Peer", "peer"},
           {"State", "state"},
           {"Remote", "remote_state"},
           {"LocalDisc", "local_discriminator"},
           {"RemoteDisc", "remote_discriminator"},
           {"Tx/Rx/Mult (ms)", "intervals"},
           {"Remote tx/rx/mult", "remote"},
           {"Tx(ms)", "tx_interval_ms"},
           {"Detect(ms)", "detection_time_ms"},
           {"Diagnostic", "local_diagnostic"}},
          rows);
  } else if (what == "vips") {
    table({{"VIP", "prefix"}, {"State", "state"}, {"Since(s)", "since_seconds"}, {"Why", "reason"}},
          a["vips"]);
  } else if (what == "health") {
    table({{"Check", "name"},
           {"Up", "up"},
           {"Since(s)", "since_seconds"},
           {"Last result", "last"},
           {"Latency(ms)", "latency_ms"}},
          a["checks"]);
  } else if (what == "proxy") {
    table({{"Service", "name"},
           {"Listen", "listen"},
           {"Proto", "protocol"},
           {"Draining", "draining"},
           {"Conns", "connections"},
           {"Active", "active"},
           {"Refused", "refused"},
           {"Forwarding", "forwarding"},
           {"In kernel", "kernel_connections"}},
          a["services"]);
    for (const auto& s : a["services"]) {
      if (s.contains("forwarding_reason"))
        std::cout << s["name"].get<std::string>()
                  << ": forwarding in user space: " << s["forwarding_reason"].get<std::string>()
                  << "\n";
      if (s.contains("nat_table")) {
        const auto& t = s["nat_table"];
        std::cout << s["name"].get<std::string>() << ": nat table: " << t["established"]
                  << " established, " << t["opening"] << " opening, " << t["closing"]
                  << " closing, " << t["expired"] << " expired, " << t.value("evicted", 0)
                  << " evicted, " << t["takeovers"] << " taken over, " << t["full"]
                  << " refused (table full)\n";
      }
    }
    for (const auto& s : a["services"]) {
      std::cout << "\n" << s["name"].get<std::string>() << " backends:\n";
      table({{"Backend", "address"},
             {"Weight", "weight"},
             {"Admin", "admin_state"},
             {"Healthy", "healthy"},
             {"Conns", "connections"},
             {"Active", "active"},
             {"Failures", "failures"},
             {"Bytes in", "bytes_in"},
             {"Bytes out", "bytes_out"}},
            s["backends"], "  ");
    }
  } else if (what == "reload") {
    bool any = false;
    for (const char* k :
         {"added", "removed", "restarted", "vips", "policies_refreshed", "health"}) {
      if (!a.contains(k) || a[k].empty()) continue;
      any = true;
      std::string items;
      for (const auto& x : a[k]) items += (items.empty() ? "" : ", ") + x.get<std::string>();
      std::string key = k;
      std::cout << (key == "vips"                 ? std::string("VIPs")
                    : key == "policies_refreshed" ? std::string("policies changed toward")
                    : key == "health"             ? std::string("health")
                                                  : "peers " + key)
                << ": " << items << "\n";
    }
    if (a.contains("services"))
      for (const auto& [name, s] : a["services"].items()) {
        any = true;
        std::cout << "service " << name << ":";
        for (const char* k : {"backends_added", "backends_removed", "backends_changed"}) {
          if (!s.contains(k) || s[k].empty()) continue;
          std::string items;
          for (const auto& x : s[k]) items += (items.empty() ? "" : ", ") + x.get<std::string>();
          std::cout << " " << std::string(k).substr(9) << " " << items << ";";
        }
        std::cout << "\n";
      }
    if (!any) std::cout << "reloaded: nothing changed\n";
  } else if (what == "backend") {
    std::cout << a["service"].get<std::string>() << " " << a["backend"].get<std::string>() << ": "
              << a["state"].get<std::string>() << ", weight " << a["weight"].get<int>()
              << (a.value("closed", false) ? ", open connections closed" : "") << "\n";
  } else {
    std::cout << a["vip"].get<std::string>() << ": " << a["state"].get<std::string>() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"anycastctl: show and steer a running anycastd"};
  app.set_version_flag("--version", std::string("anycastctl ") + ANYCASTD_VERSION);
  std::string socket_path = "/run/anycastd/anycastd.sock", vip;
  bool as_json = false;
  app.add_option("-s,--socket", socket_path, "the daemon's control socket");
  app.add_flag("-j,--json", as_json, "print the daemon's JSON answer");
  app.require_subcommand(1);
  auto* show = app.add_subcommand("show", "peers, bfd, routes, vips, health or proxy");
  std::string what, prefix, peer;
  bool received = false, advertised = false;
  show->add_option("what", what, "peers, bfd, routes, vips, health, proxy")
      ->required()
      ->check(CLI::IsMember({"peers", "bfd", "routes", "vips", "health", "proxy"}));
  show->add_option("prefix", prefix, "show routes: only this prefix");
  show->add_option("--peer", peer, "show routes: only from (or to) this peer");
  auto* rx =
      show->add_flag("--received", received, "show routes: the peer's routes after import policy");
  show->add_flag("--advertised", advertised, "show routes: what the peer has been sent")
      ->excludes(rx);
  auto* drain =
      app.add_subcommand("drain", "announce the VIP with GRACEFUL_SHUTDOWN, then withdraw it");
  drain->add_option("vip", vip, "a configured VIP")->required();
  auto* undrain = app.add_subcommand("undrain", "end a drain");
  undrain->add_option("vip", vip, "a configured VIP")->required();
  auto* reload = app.add_subcommand("reload", "read the configuration file again (as SIGHUP)");
  auto* backend = app.add_subcommand(
      "backend", "set a backend's admin state (ready, drain, maint) or its weight (weight N)");
  std::string service, backend_name, action;
  int weight = -1;
  backend->add_option("service", service, "a service's name")->required();
  backend->add_option("backend", backend_name, "address:port, or the address when unique")
      ->required();
  backend->add_option("action", action, "ready, drain, maint or weight")
      ->required()
      ->check(CLI::IsMember({"ready", "drain", "maint", "weight"}));
  backend->add_option("weight", weight, "with weight: 0 to 256");
  bool close_now = false;
  backend->add_flag("--close", close_now, "with maint: close its open connections now");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  json req;
  if (show->parsed()) {
    req = {{"command", "show " + what}};
    if (what != "routes" && (!prefix.empty() || !peer.empty() || received || advertised)) {
      std::cerr
          << "anycastctl: a prefix, --peer, --received and --advertised go with show routes\n";
      return 2;
    }
    if (!prefix.empty()) req["prefix"] = prefix;
    if (!peer.empty()) req["peer"] = peer;
    if (received || advertised) req["view"] = received ? "received" : "advertised";
  } else if (backend->parsed()) {
    what = "backend";
    req = {{"command", what}, {"service", service}, {"backend", backend_name}};
    if (action == "weight") {
      if (weight < 0) {
        std::cerr << "anycastctl: backend ... weight needs a number (0 to 256)\n";
        return 2;
      }
      req["weight"] = weight;
    } else {
      if (weight >= 0) {
        std::cerr << "anycastctl: a number goes only with weight\n";
        return 2;
      }
      req["state"] = action;
      if (close_now) req["close"] = true;
    }
  } else if (reload->parsed()) {
    what = "reload";
    req = {{"command", what}};
  } else {
    what = drain->parsed() ? "drain" : "undrain";
    req = {{"command", what}, {"vip", vip}};
  }
  std::string err;
  auto answer = anycastd::api::ask(socket_path, req, err);
  if (!answer) {
    std::cerr << "anycastctl: " << err << "\n";
    return 3;
  }
  if (as_json) {
    std::cout << answer->dump(2) << "\n";
    return answer->value("ok", false) ? 0 : 1;
  }
  if (!answer->value("ok", false)) {
    std::cerr << "anycastctl: " << answer->value("error", "refused") << "\n";
    return 1;
  }
  print(what, *answer);
  return 0;
}
