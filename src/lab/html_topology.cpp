// The report's two drawings. Both are plain SVG sized to a fixed page width, so that a
// topology of fifty regions wraps instead of running off the screen.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "lab/format.hpp"
#include "lab/html_parts.hpp"

namespace anycastd::lab {

namespace {

constexpr int kWidth = 1060;   // fits a 1100-pixel window with the page margins
constexpr int kColumns = 5;    // region cards per row
constexpr int kLine = 14;      // text line height in a card
constexpr double kChar = 6.2;  // average width of an 11-pixel sans-serif character

std::string cut(const std::string& s, size_t max) {
  return s.size() <= max ? s : s.substr(0, max - 1) + "\u2026";
}

std::string hex(double r, double g, double b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(r * 255 + 0.5),
                static_cast<int>(g * 255 + 0.5), static_cast<int>(b * 255 + 0.5));
  return buf;
}

std::string hsl(double h, double s, double l) {
  auto f = [&](double n) {
    double k = std::fmod(n + h / 30, 12), a = s * std::min(l, 1 - l);
    return l - a * std::max(-1.0, std::min({k - 3, 9 - k, 1.0}));
  };
  return hex(f(0), f(8), f(4));
}

// What the file had done to each NVA and backend by `at` (a step's own actions come after
// its snapshot), in the words a card shows.
std::map<std::string, std::string> states_at(const Scenario* s, Duration at) {
  std::map<std::string, std::string> out;
  if (!s) return out;
  using K = Action::Kind;
  std::vector<std::pair<Duration, std::string>> undo;  // (when, target) of timed faults
  for (const auto& st : s->steps) {
    if (st.at >= at) break;
    for (const auto& a : st.actions) {
      switch (a.kind) {
        case K::stop_bgp:
          out[a.target] = "BGP stopped";
          break;
        case K::crash:
          out[a.target] = "crashed";
          break;
        case K::fail_backend:
          out[a.target] = "failing (503)";
          break;
        case K::drain:
          out[a.target] = "draining";
          break;
        case K::partition:
          out[a.target] = "cut from its route servers";
          break;
        case K::freeze:
          out[a.target] = "frozen";
          break;
        case K::start_bgp:
        case K::restore:
        case K::restore_backend:
        case K::undrain:
        case K::heal:
        case K::thaw:
          out.erase(a.target);
          break;
        default:
          break;
      }
      if ((a.kind == K::partition || a.kind == K::freeze) && a.duration > Duration::zero() &&
          st.at + a.duration <= at)
        out.erase(a.target);
    }
  }
  return out;
}

const DeviceTable* snapshot(const StepRecord* step, const std::string& device) {
  if (!step) return nullptr;
  for (const auto& t : step->snapshot)
    if (t.device == device) return &t;
  return nullptr;
}

bool covers(const Prefix& p, const IpAddress& a) {
  return a.family() == p.family() && Prefix(a, p.length()) == p;
}

// The gateway instances each MSEE forwards a client's target to, by device name (two hubs
// may share an address plan).
std::set<std::string> preferred_hops(const Topology& t, const StepRecord* step) {
  std::set<std::string> out;
  for (const auto& c : t.circuits) {
    const auto* table = snapshot(step, "msee-" + c.name);
    if (!table) continue;
    for (const auto& client : t.clients) {
      int longest = -1;
      for (const auto& r : table->rows)
        if ((r.best || r.ecmp) && covers(r.prefix, client.target.address))
          longest = std::max<int>(longest, r.prefix.length());
      for (const auto& r : table->rows)
        if ((r.best || r.ecmp) && r.prefix.length() == longest &&
            covers(r.prefix, client.target.address))
          out.insert(r.source_name);
    }
  }
  return out;
}

struct Card {
  std::vector<std::pair<std::string, std::string>> lines;  // text, css class
};

Card card(const Topology& t, const RegionSpec& g, const StepRecord* step,
          const std::set<std::string>& preferred, const std::map<std::string, std::string>& state) {
  Card c;
  const auto& h = g.hub;
  std::string circuits;
  for (const auto& x : h.circuits) circuits += (circuits.empty() ? "" : ", ") + x;
  c.lines.push_back({h.name + (h.vwan ? " (vWAN)" : "") + ": RS x" +
                         std::to_string(h.route_servers.size()) + ", ER GW x" +
                         std::to_string(h.gateways.size()) +
                         (circuits.empty() ? "" : " to " + circuits),
                     "sub"});
  if (step && !h.gateways.empty()) {
    std::string chosen;
    for (size_t i = 0; i < h.gateways.size(); ++i)
      if (preferred.count(h.name + "-gw" + std::to_string(i)))
        chosen += (chosen.empty() ? "" : ", ") + t.show(h.gateways[i]).to_string();
    c.lines.push_back(
        chosen.empty() ? std::pair<std::string, std::string>{"MSEE: not chosen", "dim"}
                       : std::pair<std::string, std::string>{"MSEE prefers GW " + chosen, "pref"});
  }
  const auto* rs = snapshot(step, h.name);
  for (const auto& v : g.nvas) {
    auto st = state.find(v.name);
    c.lines.push_back({"NVA " + v.name + " AS" + std::to_string(v.config.bgp.local_as) +
                           (st != state.end() ? " (" + st->second + ")" : ""),
                       st != state.end() ? "bad" : ""});
    if (!step) continue;
    std::set<std::string> paths;
    if (rs)
      for (const auto& r : rs->rows)
        if (r.source_name == v.name) {
          // Prepends as a count: "65010 x4" reads at a glance where the path would not fit.
          std::string p;
          for (size_t i = 0; i < r.path.size();) {
            size_t j = i;
            while (j < r.path.size() && r.path[j] == r.path[i]) ++j;
            p += (p.empty() ? "" : " ") + r.path[i] +
                 (j - i > 1 ? " x" + std::to_string(j - i) : std::string());
            i = j;
          }
          paths.insert("VIP " + r.prefix.to_string() + " path " + p);
        }
    if (paths.empty()) c.lines.push_back({"  no route at the route servers", "dim"});
    for (const auto& p : paths) c.lines.push_back({"  " + p, "sub"});
  }
  for (const auto& s : h.spokes)
    c.lines.push_back(
        {"spoke " + s.name + " " + s.prefix.to_string() + (s.indirect ? " (indirect)" : ""),
         "sub"});
  for (const auto& b : g.backends) {
    auto st = state.find(b.name);
    bool up = st == state.end();
    c.lines.push_back(
        {"\u25cf " + b.name + " " + (up ? std::string("up") : st->second), up ? "good" : "bad"});
  }
  return c;
}

}  // namespace

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

std::vector<std::string> region_colours(size_t n) {
  static const char* kFirst[] = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79"};
  std::vector<std::string> out;
  for (size_t i = 0; i < n && i < 10; ++i) out.push_back(kFirst[i]);
  // Past ten, hues a golden angle apart (never twice the same), lightness and saturation
  // cycling, the reds near a lost request's colour skipped.
  double h = 0;
  for (size_t i = 10; out.size() < n; ++i) {
    h = std::fmod(h + 137.508, 360);
    if (h < 20 || h > 340) continue;
    std::string c =
        hsl(h, 0.55 + 0.15 * static_cast<double>(i % 3), 0.32 + 0.08 * static_cast<double>(i % 4));
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

std::string topology_svg(const Topology& t, const Scenario* s, const StepRecord* step,
                         const std::map<std::string, std::string>& colour) {
  auto preferred = preferred_hops(t, step);
  auto state = states_at(s, step ? step->at : Duration::zero());
  const int n = static_cast<int>(t.regions.size());
  const int cols = std::max(1, std::min(kColumns, n));
  const int cw = (kWidth - 10) / cols - 10;
  const size_t chars = static_cast<size_t>(cw / kChar);
  std::vector<Card> cards;
  for (const auto& g : t.regions) cards.push_back(card(t, g, step, preferred, state));
  const int mcols = std::max(1, std::min(kColumns, static_cast<int>(t.circuits.size())));
  const int mrows = (static_cast<int>(t.circuits.size()) + mcols - 1) / mcols;
  const int top = 80 + mrows * 50 + 20;  // the bus the regions hang from
  std::vector<int> row_y{top + 20};
  for (int r = 0; r * cols < n; ++r) {
    size_t most = 0;
    for (int i = r * cols; i < std::min(n, (r + 1) * cols); ++i)
      most = std::max(most, cards[static_cast<size_t>(i)].lines.size());
    row_y.push_back(row_y.back() + 28 + kLine * static_cast<int>(most) + 22);
  }
  const int height = row_y.back();
  std::ostringstream o;
  o << "<svg class=\"topo\" width=\"" << kWidth << "\" height=\"" << height << "\">";
  auto line = [&](int x1, int y1, int x2, int y2) {
    o << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
      << "\" stroke=\"#888\"/>";
  };
  auto box = [&](int x, int y, int w, const std::string& text, const std::string& sub) {
    o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w
      << "\" height=\"38\" rx=\"6\" fill=\"#555\" fill-opacity=\"0.12\" stroke=\"#555\"/><text x=\""
      << x + w / 2 << "\" y=\"" << y + 16 << "\" text-anchor=\"middle\">" << esc(text)
      << "</text><text class=\"sub\" x=\"" << x + w / 2 << "\" y=\"" << y + 31
      << "\" text-anchor=\"middle\">" << esc(sub) << "</text>";
  };
  std::string routers;
  for (const auto& r : t.routers) routers += (routers.empty() ? "" : ", ") + r.name;
  box(kWidth / 2 - 130, 8, 260, cut("on-prem: " + routers, 40), "clients send here");
  const int mw = (kWidth - 10) / mcols - 10;
  for (size_t i = 0; i < t.circuits.size(); ++i) {
    int x = 10 + static_cast<int>(i % static_cast<size_t>(mcols)) * (mw + 10);
    int y = 80 + static_cast<int>(i / static_cast<size_t>(mcols)) * 50;
    line(kWidth / 2, 46, x + mw / 2, y);
    line(x + mw / 2, y + 38, x + mw / 2, top);
    box(x, y, mw, "MSEE " + t.circuits[i].name, "AS" + std::to_string(t.circuits[i].asn));
  }
  line(10, top, kWidth - 10, top);
  // Rows past the first hang from their own bus, fed by a trunk down the left edge.
  const size_t rows = row_y.size() - 1;
  if (rows > 1) line(5, top, 5, row_y[rows - 1] - 10);
  for (size_t r = 1; r < rows; ++r) line(5, row_y[r] - 10, kWidth - 10, row_y[r] - 10);
  for (int i = 0; i < n; ++i) {
    const auto& g = t.regions[static_cast<size_t>(i)];
    const auto& fill = colour.at(g.name);
    int x = 10 + (i % cols) * (cw + 10), y = row_y[static_cast<size_t>(i / cols)];
    const auto& c = cards[static_cast<size_t>(i)];
    int h = 28 + kLine * static_cast<int>(c.lines.size()) + 6;
    line(x + cw / 2, i / cols == 0 ? top : y - 10, x + cw / 2, y);
    o << "<g class=\"region\"><rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cw
      << "\" height=\"" << h << "\" rx=\"6\" fill=\"#fff\" stroke=\"" << fill
      << "\" stroke-width=\"2\"/><rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cw
      << "\" height=\"22\" rx=\"6\" fill=\"" << fill << "\"/><text class=\"head\" x=\"" << x + 6
      << "\" y=\"" << y + 15 << "\">" << esc(cut(std::to_string(i + 1) + "  " + g.name, chars))
      << "</text>";
    int ly = y + 22 + kLine;
    for (const auto& [text, cls] : c.lines) {
      o << "<text class=\"" << (cls.empty() ? "line" : cls) << "\" x=\"" << x + 6 << "\" y=\"" << ly
        << "\">" << esc(cut(text, chars)) << "<title>" << esc(text) << "</title></text>";
      ly += kLine;
    }
    o << "</g>";
  }
  o << "</svg>";
  return o.str();
}

std::string timeline_svg(const RunResult& r, const std::map<std::string, std::string>& colour) {
  std::ostringstream o;
  const double end = std::max(1e-3, std::chrono::duration<double>(r.end).count());
  const int left = 110, plot = kWidth - left - 70, row = 34;
  auto x_of = [&](Duration d) {
    return left + static_cast<int>(plot * std::chrono::duration<double>(d).count() / end);
  };
  // Fault labels in lanes: each goes to the first lane where it clears the one before.
  struct Label {
    int x, lane;
    std::string text, full;
  };
  std::vector<Label> labels;
  std::vector<int> lane_end;
  for (const auto& s : r.steps) {
    if (s.actions.empty()) continue;
    std::string text;
    for (const auto& a : s.actions) text += (text.empty() ? "" : "; ") + a;
    std::string shown = cut(text, 48);
    int x = x_of(s.at) + 3, w = static_cast<int>(static_cast<double>(shown.size()) * 6.0) + 8;
    size_t lane = 0;
    while (lane < lane_end.size() && lane_end[lane] > x) ++lane;
    if (lane == lane_end.size()) lane_end.push_back(0);
    lane_end[lane] = x + w;
    labels.push_back({x, static_cast<int>(lane), shown, text});
  }
  const int head = 14 + 11 * static_cast<int>(std::max<size_t>(1, lane_end.size()));
  const int height = head + 8 + row * static_cast<int>(r.clients.size()) + 20;
  o << "<svg id=\"timeline\" class=\"timeline\" width=\"" << kWidth << "\" height=\"" << height
    << "\">";
  std::vector<size_t> lost(r.clients.size());
  for (const auto& q : r.requests) lost[q.client] += !q.ok;
  for (size_t c = 0; c < r.clients.size(); ++c) {
    int y = head + 8 + row * static_cast<int>(c);
    o << "<text x=\"4\" y=\"" << y + 16 << "\">" << esc(cut(r.clients[c], 16)) << "</text>";
    o << "<rect x=\"" << left << "\" y=\"" << y << "\" width=\"" << plot
      << "\" height=\"24\" fill=\"#f4f4f4\"/>";
    o << "<text class=\"" << (lost[c] ? "lost" : "sub") << "\" x=\"" << left + plot + 6 << "\" y=\""
      << y + 16 << "\">" << lost[c] << " lost</text>";
  }
  // Answered requests first, lost ones over them: taller, at least 3 pixels wide.
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& q : r.requests) {
      if (q.ok != (pass == 0)) continue;
      int y = head + 8 + row * static_cast<int>(q.client);
      auto it = colour.find(q.region);
      const std::string fill = q.ok && it != colour.end() ? it->second : kLostColour;
      o << "<rect x=\"" << x_of(q.at) - (q.ok ? 0 : 1) << "\" y=\"" << y - (q.ok ? 0 : 4)
        << "\" width=\"" << (q.ok ? 2 : 3) << "\" height=\"" << (q.ok ? 24 : 32) << "\" fill=\""
        << fill << "\"><title>" << esc(secs(q.at)) << " s: " << esc(q.ok ? q.region : q.why)
        << "</title></rect>";
    }
  for (const auto& l : labels) {
    o << "<line x1=\"" << l.x - 3 << "\" y1=\"" << 14 + 11 * l.lane - 9 << "\" x2=\"" << l.x - 3
      << "\" y2=\"" << height - 20 << "\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>";
    o << "<text class=\"sub\" x=\"" << l.x << "\" y=\"" << 14 + 11 * l.lane << "\">" << esc(l.text)
      << "<title>" << esc(l.full) << "</title></text>";
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

}  // namespace anycastd::lab
