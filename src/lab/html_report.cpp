// One self-contained HTML page (inline SVG and CSS, no scripts or downloads): the topology
// drawn, the timeline plotted -- one row per client, one mark per request coloured by the
// region that answered, faults as dashed lines -- and the tables at each step.
#include <map>
#include <sstream>

#include "lab/format.hpp"

namespace anycastd::lab {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

// Colours a reader can tell apart; the lost colour is kept for failures.
const char* kPalette[] = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79"};
constexpr const char* kLost = "#d62728";

std::string topology_svg(const Topology& t, const std::map<std::string, std::string>& colour) {
  std::ostringstream o;
  const int col = 230, width = std::max<int>(700, col * static_cast<int>(t.regions.size()) + 40);
  o << "<svg class=\"topo\" width=\"" << width << "\" height=\"330\">";
  auto box = [&](int x, int y, int w, const std::string& fill, const std::string& text,
                 const std::string& sub) {
    o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w
      << "\" height=\"38\" rx=\"6\" fill=\"" << fill << "\" fill-opacity=\"0.18\" stroke=\"" << fill
      << "\"/><text x=\"" << x + w / 2 << "\" y=\"" << y + 16 << "\" text-anchor=\"middle\">"
      << esc(text) << "</text><text class=\"sub\" x=\"" << x + w / 2 << "\" y=\"" << y + 31
      << "\" text-anchor=\"middle\">" << esc(sub) << "</text>";
  };
  auto line = [&](int x1, int y1, int x2, int y2) {
    o << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
      << "\" stroke=\"#888\"/>";
  };
  int rx = 20;
  std::string routers;
  for (const auto& r : t.routers) routers += (routers.empty() ? "" : ", ") + r.name;
  box(width / 2 - 110, 8, 220, "#555", "on-prem: " + routers, "clients send here");
  int cw = (width - 40) / std::max<int>(1, static_cast<int>(t.circuits.size()));
  std::map<std::string, int> cx;
  for (size_t i = 0; i < t.circuits.size(); ++i) {
    int x = 20 + static_cast<int>(i) * cw + cw / 2;
    cx[t.circuits[i].name] = x;
    line(width / 2, 46, x, 80);
    box(x - 100, 80, 200, "#555", "MSEE " + t.circuits[i].name,
        "AS" + std::to_string(t.circuits[i].asn));
  }
  for (const auto& g : t.regions) {
    int x = rx + col / 2;
    for (const auto& c : g.hub.circuits) line(cx[c], 118, x, 160);
    const std::string& fill = colour.at(g.name);
    box(rx, 160, col - 20, fill, g.name,
        g.hub.name + (g.hub.vwan ? " (vWAN)" : "") + ": RS x" +
            std::to_string(g.hub.route_servers.size()) + ", ER GW x" +
            std::to_string(g.hub.gateways.size()));
    int y = 215;
    for (const auto& v : g.nvas) {
      line(x, 198, x, y);
      box(rx + 10, y, col - 40, fill, v.name, "NVA AS" + std::to_string(v.config.bgp.local_as));
      y += 48;
    }
    for (const auto& s : g.hub.spokes) {
      line(x, 198, x, y);
      box(rx + 10, y, col - 40, fill, s.name,
          s.prefix.to_string() + (s.indirect ? " (indirect)" : ""));
      y += 48;
    }
    rx += col;
  }
  o << "</svg>";
  return o.str();
}

std::string timeline_svg(const RunResult& r, const std::map<std::string, std::string>& colour) {
  std::ostringstream o;
  const double end = std::max(1e-3, std::chrono::duration<double>(r.end).count());
  const int left = 110, plot = 860, row = 34;
  const int height = 60 + row * static_cast<int>(r.clients.size()) + 20;
  auto x_of = [&](Duration d) {
    return left + static_cast<int>(plot * std::chrono::duration<double>(d).count() / end);
  };
  o << "<svg id=\"timeline\" class=\"timeline\" width=\"" << left + plot + 20 << "\" height=\""
    << height << "\">";
  for (size_t c = 0; c < r.clients.size(); ++c) {
    int y = 40 + row * static_cast<int>(c);
    o << "<text x=\"4\" y=\"" << y + 16 << "\">" << esc(r.clients[c]) << "</text>";
    o << "<rect x=\"" << left << "\" y=\"" << y << "\" width=\"" << plot
      << "\" height=\"24\" fill=\"#f4f4f4\"/>";
  }
  for (const auto& q : r.requests) {
    int y = 40 + row * static_cast<int>(q.client);
    auto it = colour.find(q.region);
    const std::string fill = q.ok && it != colour.end() ? it->second : kLost;
    o << "<rect x=\"" << x_of(q.at) << "\" y=\"" << y + (q.ok ? 0 : 6) << "\" width=\"2\" height=\""
      << (q.ok ? 24 : 12) << "\" fill=\"" << fill << "\"><title>" << esc(secs(q.at))
      << " s: " << esc(q.ok ? q.region : q.why) << "</title></rect>";
  }
  int label = 0;
  for (const auto& s : r.steps) {
    if (s.actions.empty()) continue;
    int x = x_of(s.at);
    o << "<line x1=\"" << x << "\" y1=\"22\" x2=\"" << x << "\" y2=\"" << height - 20
      << "\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>";
    std::string text;
    for (const auto& a : s.actions) text += (text.empty() ? "" : "; ") + a;
    o << "<text class=\"sub\" x=\"" << x + 3 << "\" y=\"" << 12 + 10 * (label++ % 2) << "\">"
      << esc(text) << "</text>";
  }
  for (int i = 0; i <= 10; ++i) {
    int x = left + plot * i / 10;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f s", end * i / 10);
    o << "<text class=\"sub\" x=\"" << x << "\" y=\"" << height - 4 << "\" text-anchor=\"middle\">"
      << buf << "</text>";
  }
  o << "</svg>";
  return o.str();
}

}  // namespace

std::string html_report(const Topology& t, const RunResult& r) {
  std::map<std::string, std::string> colour;
  for (size_t i = 0; i < t.regions.size(); ++i)
    colour[t.regions[i].name] = kPalette[i % (sizeof kPalette / sizeof *kPalette)];
  std::ostringstream o;
  o << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>anycast-lab: " << esc(r.topology)
    << " / " << esc(r.scenario) << "</title><style>"
    << "body{font:14px sans-serif;margin:20px;color:#222}pre{background:#f6f6f6;padding:8px;"
       "font-size:12px}svg text{font:12px sans-serif}svg text.sub{font-size:10px;fill:#444}"
       "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
       "text-align:left;font-size:12px}.fail{color:"
    << kLost
    << "}.ok{color:#2ca02c}.key span{display:inline-block;width:12px;height:12px;"
       "margin:0 4px 0 12px}</style></head><body>";
  o << "<h1>" << esc(r.topology) << " / " << esc(r.scenario) << "</h1>";
  if (!r.description.empty()) o << "<p>" << esc(r.description) << "</p>";
  o << "<p class=\"" << (r.ok() ? "ok" : "fail") << "\"><b>" << (r.ok() ? "PASS" : "FAIL")
    << "</b>: " << r.failures.size() << " expectations failed; " << r.requests.size()
    << " requests over " << secs(r.end) << " s of lab time (seed " << r.seed << ").</p>";
  o << "<h2>Topology</h2>" << topology_svg(t, colour);
  o << "<h2>Timeline</h2><p class=\"key\">Region that answered:";
  for (const auto& [region, c] : colour)
    o << "<span style=\"background:" << c << "\"></span>" << esc(region);
  o << "<span style=\"background:" << kLost << "\"></span>request lost</p>";
  o << timeline_svg(r, colour);
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
