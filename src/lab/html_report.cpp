// One self-contained HTML page (inline SVG and CSS, no scripts or downloads): the topology
// drawn, the timeline plotted -- one row per client, one mark per request coloured by the
// region that answered, faults as dashed lines -- and the tables at each step.
#include <map>
#include <sstream>
#include <vector>

#include "lab/format.hpp"
#include "lab/html_parts.hpp"

namespace anycastd::lab {

std::string html_report(const Topology& t, const RunResult& r) {
  std::map<std::string, std::string> colour;
  auto colours = region_colours(t.regions.size());
  for (size_t i = 0; i < t.regions.size(); ++i) colour[t.regions[i].name] = colours[i];
  std::ostringstream o;
  o << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>anycast-lab: " << esc(r.topology)
    << " / " << esc(r.scenario) << "</title><style>"
    << "body{font:14px sans-serif;margin:20px;color:#222}pre{background:#f6f6f6;padding:8px;"
       "font-size:12px}svg text{font:12px sans-serif}svg text.sub{font-size:10px;fill:#444}"
       "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
       "text-align:left;font-size:12px}.fail{color:"
    << kLostColour
    << "}.ok{color:#2ca02c}.key span{display:inline-block;width:12px;height:12px;"
       "margin:0 4px 0 12px}.view{display:none}.steps input{display:none}.steps label{"
       "display:inline-block;padding:2px 8px;margin:0 4px 4px 0;border:1px solid #aaa;"
       "border-radius:4px;cursor:pointer;font-size:12px}.steps input:checked+label{"
       "background:#333;color:#fff}svg text.head{font-weight:bold;fill:#fff}svg text.line,"
       "svg text.sub,svg text.dim,svg text.pref,svg text.good,svg text.bad{font-size:11px}"
       "svg text.dim{fill:#999}svg text.pref{fill:#000;font-weight:bold}svg text.good{fill:"
       "#2a7a2a}svg text.bad,svg text.lost{fill:"
    << kLostColour << ";font-weight:bold}</style></head><body>";
  o << "<h1>" << esc(r.topology) << " / " << esc(r.scenario) << "</h1>";
  if (!r.description.empty()) o << "<p>" << esc(r.description) << "</p>";
  o << "<p class=\"" << (r.ok() ? "ok" : "fail") << "\"><b>" << (r.ok() ? "PASS" : "FAIL")
    << "</b>: " << r.failures.size() << " expectations failed; " << r.requests.size()
    << " requests over " << secs(r.end) << " s of lab time (seed " << r.seed << ").</p>";
  o << "<h2>Timeline</h2><p class=\"key\">Region that answered:";
  for (size_t i = 0; i < t.regions.size(); ++i)
    o << "<span style=\"background:" << colour.at(t.regions[i].name) << "\"></span>" << i + 1 << " "
      << esc(t.regions[i].name);
  o << "<span style=\"background:" << kLostColour << "\"></span>request lost</p>";
  o << timeline_svg(r, colour);
  // The drawing at each step, one shown at a time: radio buttons and CSS, no script.
  const Scenario* scenario = t.scenario(r.scenario);
  o << "<h2>Topology</h2><div class=\"steps\">";
  std::vector<const StepRecord*> shown;
  for (const auto& st : r.steps) shown.push_back(&st);
  if (shown.empty()) shown.push_back(nullptr);
  for (size_t i = 0; i < shown.size(); ++i)
    o << "<input type=\"radio\" name=\"step\" id=\"step" << i << "\"" << (i == 0 ? " checked" : "")
      << "><label for=\"step" << i << "\">"
      << (shown[i] ? "t=" + secs(shown[i]->at) + " s" +
                         (shown[i]->note.empty() ? "" : " " + esc(shown[i]->note))
                   : std::string("as built"))
      << "</label>";
  for (size_t i = 0; i < shown.size(); ++i)
    o << "<div class=\"view\" id=\"topo" << i << "\">"
      << topology_svg(t, scenario, shown[i], colour) << "</div>";
  o << "</div><style>";
  for (size_t i = 0; i < shown.size(); ++i)
    o << "#step" << i << ":checked~#topo" << i << "{display:block}";
  o << "</style>";
  o << "<h2>Faults</h2><table><tr><th>t (s)</th><th>action</th><th>client</th><th>before</th>"
       "<th>after</th><th>other region after</th><th>lost</th></tr>";
  for (const auto& f : r.faults)
    o << "<tr><td>" << secs(f.at) << "</td><td>" << esc(f.action) << "</td><td>" << esc(f.client)
      << "</td><td>" << esc(f.before) << "</td><td>" << esc(f.after) << "</td><td>"
      << (f.switched ? secs(*f.switched) + " s" : "-") << "</td><td>" << f.lost << " of " << f.sent
      << "</td></tr>";
  o << "</table><h2>Steps</h2>";
  for (const auto& s : r.steps) {
    o << "<h3>t=" << secs(s.at) << " s " << esc(s.note) << "</h3>";
    for (const auto& a : s.actions) o << "<p>&rarr; " << esc(a) << "</p>";
    for (const auto& c : s.checked) o << "<div class=\"ok\">&#10003; " << esc(c) << "</div>";
    for (const auto& c : s.failed) o << "<div class=\"fail\">&#10007; " << esc(c) << "</div>";
    for (const auto& t : s.tables)
      o << "<p><b>" << esc(t.title) << "</b></p><pre>" << esc(t.text()) << "</pre>";
  }
  o << "<h2>Events</h2><table>";
  for (const auto& e : r.events)
    o << "<tr><td>" << secs(e.at) << "</td><td>" << esc(e.kind) << "</td><td>" << esc(e.text)
      << "</td></tr>";
  o << "</table></body></html>\n";
  return o.str();
}

}  // namespace anycastd::lab
