#include "lab/format.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace anycastd::lab {

std::string secs(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::chrono::duration<double>(d).count());
  return buf;
}

namespace {

std::string ms(Duration d) {
  char buf[32];
  double v = std::chrono::duration<double, std::milli>(d).count();
  if (v >= 1000) {
    std::snprintf(buf, sizeof buf, "%.3f s", v / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f ms", v);
  }
  return buf;
}

std::string indent(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string l; std::getline(in, l);) out += "    " + l + "\n";
  return out;
}

// Requests per client and region over the whole run: the flows ECMP spread.
std::map<std::string, std::map<std::string, size_t>> shares(const RunResult& r) {
  std::map<std::string, std::map<std::string, size_t>> out;
  for (const auto& q : r.requests) out[r.clients[q.client]][q.ok ? q.region : "(lost)"]++;
  return out;
}

// Median and p99 round trip of each client's answered requests (lab clock in sim; the
// wall clock in live and netns).
std::map<std::string, std::pair<Duration, Duration>> latencies(const RunResult& r) {
  std::map<std::string, std::vector<Duration>> by;
  for (const auto& q : r.requests)
    if (q.ok) by[r.clients[q.client]].push_back(q.rtt);
  std::map<std::string, std::pair<Duration, Duration>> out;
  for (auto& [client, v] : by) {
    std::sort(v.begin(), v.end());
    out[client] = {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
  }
  return out;
}

}  // namespace

std::string text_report(const RunResult& r) {
  std::ostringstream o;
  o << "anycast-lab: " << r.topology << " / " << r.scenario << " (" << r.mode << ", seed " << r.seed
    << ", " << secs(r.end) << " s of lab time)\n";
  if (!r.description.empty()) o << r.description << "\n";
  for (const auto& st : r.steps) {
    if (st.tables.empty() && st.checked.empty() && st.failed.empty()) continue;
    o << "\n== t=" << secs(st.at) << " s" << (st.note.empty() ? "" : ": " + st.note) << " ==\n";
    for (const auto& t : st.tables) o << "  " << t.title << ":\n" << indent(t.text());
    for (const auto& c : st.checked) o << "  ok    " << c << "\n";
    for (const auto& c : st.failed) o << "  FAIL  " << c << "\n";
  }
  o << "\nTimeline:\n";
  for (const auto& e : r.events) {
    char kind[16];
    std::snprintf(kind, sizeof kind, "%-9s", e.kind.c_str());
    o << "  t=" << secs(e.at) << "  " << kind << " " << e.text << "\n";
  }
  if (!r.faults.empty()) o << "\nFaults (lab clock):\n";
  for (const auto& f : r.faults) {
    o << "  t=" << secs(f.at) << "  " << f.action << "\n    " << f.client << ": "
      << (f.before.empty() ? "(nothing)" : f.before) << " -> "
      << (f.after.empty() ? "(nothing)" : f.after);
    if (f.switched) o << ", another region served after " << ms(*f.switched);
    if (f.recovered) o << ", requests succeeded again after " << ms(*f.recovered);
    o << ", " << f.lost << " of " << f.sent << " requests lost\n";
  }
  o << "\nRequests per client and region (round trip of those answered, median / p99):\n";
  auto rtts = latencies(r);
  for (const auto& [client, by] : shares(r)) {
    o << "  " << client << ":";
    for (const auto& [region, n] : by) o << " " << region << " " << n;
    if (auto it = rtts.find(client); it != rtts.end())
      o << "; " << ms(it->second.first) << " / " << ms(it->second.second);
    o << "\n";
  }
  o << "\n" << (r.ok() ? "PASS" : "FAIL") << ": ";
  size_t held = 0;
  for (const auto& st : r.steps) held += st.checked.size();
  o << held << " expectations held, " << r.failures.size() << " failed; " << r.requests.size()
    << " requests; "
    << ms(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(r.wall_seconds)))
    << " wall\n";
  for (const auto& f : r.failures) o << "  FAIL " << f << "\n";
  return o.str();
}

nlohmann::json json_report(const RunResult& r) {
  using nlohmann::json;
  auto sec = [](Duration d) { return std::chrono::duration<double>(d).count(); };
  json j{{"topology", r.topology},
         {"scenario", r.scenario},
         {"mode", r.mode},
         {"seed", r.seed},
         {"end", sec(r.end)},
         {"ok", r.ok()},
         {"wall_seconds", r.wall_seconds},
         {"failures", r.failures}};
  j["events"] = json::array();
  for (const auto& e : r.events)
    j["events"].push_back({{"at", sec(e.at)}, {"kind", e.kind}, {"text", e.text}});
  j["steps"] = json::array();
  for (const auto& st : r.steps) {
    json t = json::object();
    for (const auto& table : st.tables) t[table.device] = to_json(table);
    j["steps"].push_back({{"at", sec(st.at)},
                          {"note", st.note},
                          {"actions", st.actions},
                          {"tables", t},
                          {"held", st.checked},
                          {"failed", st.failed}});
  }
  j["faults"] = json::array();
  for (const auto& f : r.faults) {
    json x{{"at", sec(f.at)},  {"action", f.action}, {"client", f.client}, {"before", f.before},
           {"after", f.after}, {"lost", f.lost},     {"sent", f.sent}};
    x["switched_after"] = f.switched ? json(sec(*f.switched)) : json(nullptr);
    x["recovered_after"] = f.recovered ? json(sec(*f.recovered)) : json(nullptr);
    j["faults"].push_back(x);
  }
  json sh = json::object();
  for (const auto& [client, by] : shares(r))
    for (const auto& [region, n] : by) sh[client][region] = n;
  j["requests_by_region"] = sh;
  json lat = json::object();
  for (const auto& [client, m] : latencies(r))
    lat[client] = {{"median_ms", sec(m.first) * 1000}, {"p99_ms", sec(m.second) * 1000}};
  j["round_trip"] = lat;
  j["requests"] = r.requests.size();
  // Each client's requests in sending order: the answer (which backend served it), or
  // null for a lost one.
  json answers = json::object();
  for (const auto& c : r.clients) answers[c] = json::array();
  for (const auto& q : r.requests)
    answers[r.clients[q.client]].push_back(q.ok ? json(q.answer) : json(nullptr));
  j["answers"] = answers;
  return j;
}

}  // namespace anycastd::lab
