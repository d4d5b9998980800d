#include "lab/scenario_run.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>

#include "lab/format.hpp"
#include "lab/live_lab.hpp"
#include "lab/sim_lab.hpp"
#include "lab/table_build.hpp"
#include "runtime/scoped_posts.hpp"

namespace anycastd::lab {

namespace {

std::string joined(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return "[" + s + "]";
}

class Runner {
 public:
  Runner(const Topology& t, const Scenario& s, const RunOptions& opt)
      : t_(t), s_(s), opt_(opt), owned_(make(t, opt)), lab_(*owned_) {}

  static std::unique_ptr<Lab> make(const Topology& t, const RunOptions& opt) {
    if (opt.mode == "live" || opt.mode == "netns")
      return std::make_unique<LiveLab>(t, opt.anycastd, opt.port, opt.progress,
                                       opt.mode == "netns");
    return std::make_unique<SimLab>(t);
  }

  RunResult run() {
    auto wall0 = std::chrono::steady_clock::now();
    r_.topology = t_.name;
    r_.scenario = s_.name;
    r_.description = s_.description;
    r_.seed = t_.seed;
    r_.mode = lab_.mode();
    r_.end = s_.end;
    for (const auto& c : t_.clients) r_.clients.push_back(c.name);
    lab_.on_event = [this](const Event& e) {
      r_.events.push_back(e);
      if (e.kind == "error") r_.failures.push_back(e.text);
    };
    if (auto ok = lab_.start(); !ok) {
      r_.failures.push_back(ok.error());
      return std::move(r_);
    }
    recent_.assign(t_.clients.size(), {});
    for (size_t i = 0; i < t_.clients.size(); ++i) schedule_client(i, 0);
    // Real time passes in live mode: say how it goes every 10 s.
    if (opt_.progress && lab_.mode() != "sim") tick();
    for (size_t i = 0; i < s_.steps.size(); ++i) {
      lab_.run_until(s_.steps[i].at);
      step(i);
    }
    lab_.run_until(s_.end);
    stopped_ = true;
    // Live answers arrive out of order; the records read in sending order.
    std::stable_sort(r_.requests.begin(), r_.requests.end(),
                     [](const RequestRecord& a, const RequestRecord& b) { return a.at < b.at; });
    faults();
    r_.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    return std::move(r_);
  }

 private:
  void schedule_client(size_t i, uint64_t n) {
    const auto& c = t_.clients[i];
    auto interval =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / c.rate));
    // Clients start staggered inside one interval so their requests do not all coincide.
    Duration first =
        n == 0 ? interval * static_cast<long>(i + 1) / static_cast<long>(t_.clients.size() + 1)
               : interval;
    later_.post(
        [this, i, n] {
          if (stopped_) return;
          send(i, n);
          schedule_client(i, n + 1);
        },
        first);
  }

  void tick() {
    later_.post(
        [this] {
          if (stopped_) return;
          size_t lost = 0;
          for (const auto& q : r_.requests) lost += !q.ok;
          opt_.progress("[" + secs(lab_.elapsed()) + "s] " + std::to_string(r_.requests.size()) +
                        " requests, " + std::to_string(lost) + " lost so far");
          tick();
        },
        std::chrono::seconds(10));
  }

  void send(size_t i, uint64_t n) {
    const auto& c = t_.clients[i];
    uint64_t flow = (static_cast<uint64_t>(i) << 40) ^ (t_.seed << 20) ^ n;
    lab_.request(c, flow,
                 [this, i, at = lab_.elapsed()](Outcome o) { record(i, at, std::move(o)); });
  }

  void record(size_t i, Duration at, Outcome o) {
    if (stopped_) return;
    const auto& c = t_.clients[i];
    r_.requests.push_back({at, i, o.ok, o.ok ? o.region : "", o.why, o.rtt, o.ok ? o.answer : ""});
    // A region (or failure) new to this client's last few requests is news; ECMP
    // alternating between two regions is not.
    std::string now = o.ok ? o.region : "";
    auto& recent = recent_[i];
    bool news = std::find(recent.begin(), recent.end(), now) == recent.end();
    recent.push_back(now);
    if (recent.size() > 10) recent.pop_front();
    if (!news) return;
    if (o.ok) {
      lab_.on_event(Event{lab_.elapsed(), "served",
                          c.name + ": served by " + o.region + " (" + o.answer + ")"});
    } else {
      lab_.on_event(Event{lab_.elapsed(), "lost", c.name + ": request failed: " + o.why});
    }
  }

  void check(StepRecord& rec, bool ok, std::string what) {
    (ok ? rec.checked : rec.failed).push_back(what);
    if (!ok) r_.failures.push_back("t=" + secs(rec.at) + ": " + what);
  }

  void step(size_t idx) {
    const Step& st = s_.steps[idx];
    StepRecord rec;
    rec.at = st.at;
    rec.note = st.note;
    if (opt_.progress) {
      std::string what = st.note;
      for (const auto& a : st.actions) what += (what.empty() ? "" : "; ") + a.describe();
      if (what.empty() && st.expect) what = "check";
      opt_.progress("[" + secs(st.at) + "s] step " + std::to_string(idx + 1) + "/" +
                    std::to_string(s_.steps.size()) + (what.empty() ? "" : ": " + what));
    }
    if (st.expect) expect(*st.expect, rec);
    since_ = st.at;
    if (!st.show_devices.empty() || st.show || opt_.show_all) {
      auto devices = !st.show_devices.empty() ? st.show_devices : shown_devices(t_, opt_.show_all);
      for (const auto& d : devices)
        if (auto table = lab_.table(d)) rec.tables.push_back(std::move(*table));
    }
    if (opt_.snapshots) {
      for (const auto& c : t_.circuits)
        if (auto table = lab_.table("msee-" + c.name)) rec.snapshot.push_back(std::move(*table));
      for (const auto& g : t_.regions)
        if (!g.hub.vwan && !g.hub.route_servers.empty())
          if (auto table = lab_.table(g.hub.name)) rec.snapshot.push_back(std::move(*table));
    }
    for (const auto& a : st.actions) {
      lab_.apply(a);
      rec.actions.push_back(a.describe());
    }
    // Which backends or regions answer is asked of the requests sent once the actions took
    // effect: live, an action takes real time (a control socket's answer, a reload), and a
    // request sent meanwhile still meets the old configuration. In virtual time it is st.at.
    answers_since_ = std::max(st.at, st.actions.empty() ? st.at : lab_.elapsed());
    r_.steps.push_back(std::move(rec));
  }

  void expect(const Expect& e, StepRecord& rec) {
    for (const auto& m : e.msee) {
      std::string where = "MSEE " + m.circuit + " " + m.prefix.to_string();
      if (m.routes) {
        auto have = lab_.msee_routes(m.circuit, m.prefix);
        bool ok = joined(have) == joined(*m.routes);
        check(rec, ok,
              where + " routes " + joined(*m.routes) + (ok ? "" : ", found " + joined(have)));
      }
      if (m.chosen_region) {
        auto have = lab_.msee_chosen_region(m.circuit, m.prefix);
        check(rec, have == *m.chosen_region,
              where + " chosen region " + *m.chosen_region +
                  (have == *m.chosen_region ? "" : ", found " + have));
      }
    }
    for (const auto& [client, region] : e.served_by) {
      size_t i = client_index(client);
      const RequestRecord* last = nullptr;
      for (auto it = r_.requests.rbegin(); it != r_.requests.rend(); ++it)
        if (it->client == i) {
          last = &*it;
          break;
        }
      std::string have = !last ? "no request yet" : last->ok ? last->region : "none";
      check(rec, have == region,
            client + " served by " + region +
                (have == region
                     ? ""
                     : ", found " + have + (last && !last->ok ? " (" + last->why + ")" : "")));
    }
    // What answered each client since the previous step, by region or by the backends'
    // answers: every one listed, and no other.
    auto served = [&](const std::map<std::string, std::vector<std::string>>& expected,
                      const char* verb, std::string RequestRecord::*field) {
      for (const auto& [client, want] : expected) {
        size_t i = client_index(client);
        std::set<std::string> seen;
        for (const auto& q : r_.requests)
          if (q.client == i && q.at > answers_since_ && q.ok) seen.insert(q.*field);
        std::vector<std::string> have(seen.begin(), seen.end());
        bool ok = joined(have) == joined(want);
        check(rec, ok,
              client + " " + verb + " since t=" + secs(since_) + " by " + joined(want) +
                  (ok ? "" : ", found " + joined(have)));
      }
    };
    served(e.regions_served, "served", &RequestRecord::region);
    served(e.answers, "answered", &RequestRecord::answer);
    for (const auto& [client, max] : e.lost_max) {
      size_t i = client_index(client);
      size_t lost = 0;
      for (const auto& q : r_.requests)
        if (q.client == i && q.at > since_ && !q.ok) ++lost;
      check(rec, lost <= max,
            client + " lost at most " + std::to_string(max) + " since t=" + secs(since_) +
                (lost <= max ? "" : ", lost " + std::to_string(lost)));
    }
    for (const auto& [device, prefixes] : e.table)
      for (const auto& [p, want] : prefixes) expect_table(device, p, want, rec);
    for (const auto& [hub, prefixes] : e.route_server)
      for (const auto& [p, want] : prefixes) {
        bool have = lab_.route_server_has(hub, p);
        check(rec, have == want,
              "route server " + hub + " " + (want ? "holds " : "does not hold ") + p.to_string() +
                  (have == want ? ""
                   : have       ? ", but it does"
                                : ", but it does not"));
      }
  }

  // A device's routes for one prefix against the file's "NEXTHOP PATH" list: the same set
  // (each distinct route once: both route server instances learn the same), and where the
  // file marks next hops with `*`, the same choice.
  void expect_table(const std::string& device, const Prefix& p,
                    const std::vector<std::string>& want, StepRecord& rec) {
    auto table = lab_.table(device);
    bool marks = false;
    for (const auto& w : want) marks |= w.find('*') != std::string::npos;
    std::set<std::string> have;
    if (table)
      for (const auto& r : table->rows) {
        if (r.prefix != p) continue;
        auto route = DeviceTable::route(r);
        if (!marks) route.erase(std::remove(route.begin(), route.end(), '*'), route.end());
        have.insert(route);
      }
    std::vector<std::string> h(have.begin(), have.end());
    bool ok = joined(h) == joined(want);
    std::string what =
        device + " " + p.to_string() + (want.empty() ? " has no route" : " routes " + joined(want));
    if (table && table->down) what += ", but " + device + " is down";
    check(rec, ok && table && !table->down, what + (ok ? "" : ", found " + joined(h)));
  }

  size_t client_index(const std::string& name) const {
    for (size_t i = 0; i < t_.clients.size(); ++i)
      if (t_.clients[i].name == name) return i;
    return 0;
  }

  // Per step with actions and per client: who served before, how long until another region
  // served or requests succeeded again, and how many were lost until the next such step.
  void faults() {
    std::vector<size_t> at;
    for (size_t i = 0; i < s_.steps.size(); ++i)
      if (!s_.steps[i].actions.empty()) at.push_back(i);
    for (size_t k = 0; k < at.size(); ++k) {
      const Step& st = s_.steps[at[k]];
      Duration from = st.at;
      Duration to = k + 1 < at.size() ? s_.steps[at[k + 1]].at : s_.end;
      std::string action;
      for (const auto& a : st.actions) action += (action.empty() ? "" : "; ") + a.describe();
      for (size_t c = 0; c < t_.clients.size(); ++c) {
        FaultRecord f;
        f.at = from;
        f.action = action;
        f.client = t_.clients[c].name;
        bool failing = false;
        for (const auto& q : r_.requests) {
          if (q.client != c) continue;
          if (q.at <= from) {
            if (q.ok) f.before = q.region;
            continue;
          }
          if (q.at > to) break;
          ++f.sent;
          if (!q.ok) {
            ++f.lost;
            failing = true;
            continue;
          }
          f.after = q.region;
          if (!f.switched && q.region != f.before) f.switched = q.at - from;
          if (failing) f.recovered = q.at - from;
          failing = false;
        }
        r_.faults.push_back(f);
      }
    }
  }

  const Topology& t_;
  const Scenario& s_;
  RunOptions opt_;
  std::unique_ptr<Lab> owned_;
  Lab& lab_;
  RunResult r_;
  std::vector<std::deque<std::string>> recent_;
  Duration since_{};
  Duration answers_since_{};  // since_, or when the previous step's actions took effect
  bool stopped_ = false;
  // The clients' next requests and the progress line: gone with the run, before the lab.
  ScopedPosts later_{lab_.loop()};
};

}  // namespace

RunResult run_scenario(const Topology& t, const Scenario& s, const RunOptions& opt) {
  return Runner(t, s, opt).run();
}

}  // namespace anycastd::lab
