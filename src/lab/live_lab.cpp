#include "lab/live_lab.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <list>

#include <asio/post.hpp>
#include "api/control_client.hpp"

#include "lab/backend_action.hpp"
#include "lab/forwarding.hpp"
#include "lab/live_proc.hpp"
#include "lab/sim_node.hpp"
#include "runtime/asio/asio_transport.hpp"

namespace anycastd::lab {

using nlohmann::json;
using Kind = SimLab::Node::Kind;

LiveLab::LiveLab(const Topology& t, std::string anycastd, uint16_t port,
                 std::function<void(const std::string&)> progress, bool netns)
    : t_(t),
      plan_(t_),
      anycastd_(std::move(anycastd)),
      port_(port),
      progress_(std::move(progress)),
      transport_(std::make_unique<rt::AsioTransport>(loop_)),
      netns_(netns) {
  assign_addresses();
}

LiveLab::~LiveLab() {
  // Requests still running inside a namespace finish within their 2 s timeout.
  // (connect and each read time out after 2 s)
  for (int i = 0; i < 1000 && *inflight_ > 0; ++i) ::usleep(10000);
  for (auto& [_, p] : procs_)
    if (p->pid > 0) ::kill(p->pid, SIGKILL);
  for (auto& [_, p] : procs_)
    if (p->pid > 0) ::waitpid(p->pid, nullptr, 0);
  backends_.clear();
  servers_.clear();
  spaces_.reset();  // every namespace goes, whatever happened
  if (!dir_.empty() && !std::getenv("ANYCAST_LAB_KEEP")) std::filesystem::remove_all(dir_);
}

void LiveLab::emit(std::string kind, std::string text) {
  if (on_event) on_event(Event{elapsed(), std::move(kind), std::move(text)});
}

bool LiveLab::spawn(Proc& p) {
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // If the lab dies without unwinding (SIGKILL, a crash), its devices go with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(p.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    auto ns = ns_of_.find(p.name);
    if (ns != ns_of_.end())
      ::execlp("ip", "ip", "netns", "exec", ns->second.c_str(), anycastd_.c_str(), "-c",
               p.file.c_str(), "--log-level", "warn", static_cast<char*>(nullptr));
    ::execl(anycastd_.c_str(), "anycastd", "-c", p.file.c_str(), "--log-level", "warn",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  p.pid = pid;
  return true;
}

void LiveLab::stop(Proc& p, int sig) {
  if (p.pid > 0) ::kill(p.pid, sig);
}

std::optional<std::string> LiveLab::listen(Backend& b) {
  auto l = transport_->listen(map(b.node->backend->at), [this, &b](std::unique_ptr<Stream> s) {
    b.connections.remove_if([](const auto& c) { return c->done(); });
    b.connections.push_back(std::make_unique<HttpConnection>(
        loop_, std::move(s), b.node->backend->answer, [&b] { return !b.failed; }, b.node->region));
  });
  if (!l) return l.error();
  b.listener = std::move(*l);
  return std::nullopt;
}

Status<> LiveLab::start_netns() {
  if (::geteuid() != 0) return Err(std::string("netns mode needs root (network namespaces)"));
  spaces_ = std::make_unique<Netns>();
  if (auto r = spaces_->create_fabric(); !r) return r;
  for (const auto& n : plan_.nodes()) {
    bool forward = n->kind == Kind::router || n->kind == Kind::msee || n->kind == Kind::gateway;
    auto ns = spaces_->add(n->name, map(n->address), forward);
    if (!ns) return Err(ns.error());
    ns_of_[n->name] = *ns;
  }
  // A spoke's application answers on the gateways that reach it (the VNet behind them).
  for (const auto& n : plan_.nodes()) {
    if (n->kind != Kind::gateway) continue;
    for (const auto& sp : n->hub_spec->spokes)
      for (const auto& c : t_.clients) {
        if (!contains(sp.prefix, c.target.address)) continue;
        IpAddress at = map_target(c.target.address);
        if (auto r = spaces_->add_local(ns_of_.at(n->name), at); !r) return r;
        auto srv = std::make_unique<NetnsHttpServer>(ns_of_.at(n->name), at, c.target.port,
                                                     sp.answer, n->region);
        if (auto r = srv->start(); !r) return Err("spoke " + sp.name + ": " + r.error());
        servers_[n->name + "/" + sp.name + "/" + c.name] = std::move(srv);
      }
  }
  for (const auto& c : t_.clients) {
    auto ns = spaces_->add(c.name, client_address_.at(c.name), false);
    if (!ns) return Err(ns.error());
    ns_of_[c.name] = *ns;
    const auto* router = device_named(c.router);
    if (auto r = spaces_->default_route(*ns, map(router->address)); !r) return r;
  }
  return Done{};
}

Status<> LiveLab::start() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : "/tmp";
  std::string tmpl = base + "/anycast-lab-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return Err("cannot create a directory in " + base);
  dir_ = tmpl;
  if (::access(anycastd_.c_str(), X_OK) != 0)
    return Err("live mode needs the anycastd binary; not found at " + anycastd_);
  if (netns_)
    if (auto r = start_netns(); !r) return r;
  for (const auto& n : plan_.nodes()) {
    if (n->kind == Kind::backend && netns_) {
      auto srv = std::make_unique<NetnsHttpServer>(
          ns_of_.at(n->name), map(n->address), n->backend->at.port, n->backend->answer, n->region);
      if (auto r = srv->start(); !r) return Err("backend " + n->name + ": " + r.error());
      servers_[n->name] = std::move(srv);
      continue;
    }
    if (n->kind == Kind::backend) {
      auto b = std::make_unique<Backend>();
      b->node = n.get();
      if (auto err = listen(*b)) return Err("backend " + n->name + ": " + *err);
      backends_.push_back(std::move(b));
      continue;
    }
    auto p = std::make_unique<Proc>();
    p->name = n->name;
    p->node = n.get();
    p->file = dir_ + "/" + n->name + ".yaml";
    p->sock = dir_ + "/" + n->name + ".sock";
    p->log = dir_ + "/" + n->name + ".log";
    p->cfg = config_for(*n);
    write_config(*p);
    if (!spawn(*p)) return Err("cannot start anycastd for " + n->name);
    procs_[n->name] = std::move(p);
  }
  if (progress_)
    progress_(mode() + ": " + std::to_string(procs_.size()) + " anycastd processes on " +
              (netns_ ? std::string("198.18.0.0/16, one network namespace each (") +
                            spaces_->prefix() + "*)"
                      : "127." + std::to_string(100 + port_ % 100) + ".0.0/16") +
              " port " + std::to_string(port_) + ", files in " + dir_);
  // Every session up before the clock starts, as the simulated lab converges in its first
  // milliseconds.
  auto deadline = loop_.now() + std::chrono::seconds(30);
  std::string missing;
  while (true) {
    missing.clear();
    size_t down = 0;
    for (auto& [name, p] : procs_) {
      int status = 0;
      if (p->pid > 0 && ::waitpid(p->pid, &status, WNOHANG) == p->pid) {
        p->pid = -1;
        std::ifstream log(p->log);
        std::stringstream ss;
        ss << log.rdbuf();
        return Err("anycastd for " + name + " exited: " + ss.str().substr(0, 2000));
      }
      std::string err;
      auto j = api::ask(p->sock, {{"command", "show peers"}}, err, std::chrono::seconds(2));
      if (!j) {
        ++down;
        if (missing.empty()) missing = name + ": " + err;
        continue;
      }
      for (const auto& peer : (*j)["peers"])
        if (peer["state"] != "Established") {
          ++down;
          if (missing.empty())
            missing =
                name + " with " +
                t_.show(unmap(*IpAddress::parse(peer["address"].get<std::string>()))).to_string() +
                ": " + peer["state"].get<std::string>();
        }
    }
    if (down == 0) break;
    if (loop_.now() > deadline)
      return Err("live: sessions not established after 30 s (first: " + missing + "); logs in " +
                 dir_);
    loop_.schedule(std::chrono::milliseconds(200), [this] { loop_.stop(); });
    loop_.context().restart();
    loop_.run();
  }
  start_ = loop_.now();
  return Done{};
}

void LiveLab::run_until(Duration t) {
  auto left = start_ + t - loop_.now();
  if (left <= Duration::zero()) return;
  loop_.schedule(left, [this] { loop_.stop(); });
  loop_.context().restart();
  loop_.run();
}

void LiveLab::apply(const Action& a) {
  emit("action", a.describe());
  using K = Action::Kind;
  auto proc = [&](const std::string& name) -> Proc* {
    auto it = procs_.find(name);
    return it == procs_.end() ? nullptr : it->second.get();
  };
  auto backend = [&](const std::string& name) -> Backend* {
    for (auto& b : backends_)
      if (b->node->name == name) return b.get();
    return nullptr;
  };
  auto restart = [&](Proc& p) {
    if (p.pid > 0) {
      ::kill(p.pid, SIGKILL);
      ::waitpid(p.pid, nullptr, 0);
    }
    spawn(p);
  };
  switch (a.kind) {
    case K::stop_bgp:
      if (auto* p = proc(a.target)) {
        // The second signal skips the drain: withdraw, Cease, exit -- as ExaBGP stops.
        stop(*p, SIGTERM);
        later_.post([this, p] { stop(*p, SIGTERM); }, std::chrono::milliseconds(50));
      }
      break;
    case K::start_bgp:
    case K::restore:
      if (auto* p = proc(a.target)) restart(*p);
      if (auto* b = backend(a.target); b && !b->listener) {
        auto l =
            transport_->listen(map(b->node->backend->at), [this, b](std::unique_ptr<Stream> s) {
              b->connections.push_back(std::make_unique<HttpConnection>(
                  loop_, std::move(s), b->node->backend->answer, [b] { return !b->failed; }));
            });
        if (l) b->listener = std::move(*l);
      }
      break;
    case K::crash:
      // A killed process's kernel still closes its sockets: peers see the FIN at once,
      // unlike a host that loses power (the simulated lab's crash).
      if (auto* p = proc(a.target)) stop(*p, SIGKILL);
      if (auto* b = backend(a.target)) {
        b->listener.reset();
        b->connections.clear();
      }
      break;
    case K::drain:
    case K::undrain:
      if (auto* p = proc(a.target)) stop(*p, a.kind == K::drain ? SIGUSR1 : SIGUSR2);
      break;
    case K::freeze:
    case K::thaw:
      // SIGSTOP is what a paused VM looks like from outside: the sockets stay open, and
      // nothing answers on them.
      if (auto* p = proc(a.target)) {
        stop(*p, a.kind == K::freeze ? SIGSTOP : SIGCONT);
        if (a.kind == K::freeze && a.duration > Duration::zero()) {
          Action thaw = a;
          thaw.kind = K::thaw;
          later_.post([this, thaw] { apply(thaw); }, a.duration);
        }
      }
      break;
    case K::reload:
      // The plan's own copy of the NVA's configuration takes the new one; the process gets
      // it rewritten for its live addresses, its VIPs as they stand, and `anycastctl reload`.
      for (const auto& c : plan_.change(a)) {
        auto* p = proc(c.node->name);
        if (!p) continue;
        auto vips = p->cfg.bgp.vips;
        p->cfg = config_for(*c.node);
        p->cfg.bgp.vips = std::move(vips);
        write_config(*p);
        std::string err;
        auto answer = api::ask(p->sock, {{"command", "reload"}}, err, std::chrono::seconds(10));
        if (!answer)
          emit("error", a.target + ": " + a.describe() + ": " + err);
        else if (answer->value("ok", false) != true)
          emit("error", a.target + ": " + a.describe() + ": " + answer->value("error", "refused"));
      }
      break;
    case K::backend:
      if (auto* p = proc(a.target)) {
        // As the NVA's configuration names it: its backends' addresses were mapped.
        auto mapped = [&](const Endpoint& e) {
          return netns_ ? Endpoint{map(e.address), e.port} : map(e);
        };
        std::string name = a.backend;
        if (auto at = lab_backend(t_, a.backend)) {
          name = mapped(*at).to_string();
        } else if (auto addr = IpAddress::parse(a.backend)) {
          name = map(*addr).to_string();
        } else if (auto colon = a.backend.rfind(':'); colon != std::string::npos) {
          auto host = IpAddress::parse(a.backend.substr(0, colon));
          int port = std::atoi(a.backend.c_str() + colon + 1);
          if (host && port > 0 && port < 65536)
            name = mapped(Endpoint{*host, static_cast<uint16_t>(port)}).to_string();
        }
        std::string err;
        auto answer = api::ask(p->sock, backend_request(a, name), err, std::chrono::seconds(5));
        if (!answer)
          emit("error", a.target + ": " + a.describe() + ": " + err);
        else if (answer->value("ok", false) != true)
          emit("error", a.target + ": " + a.describe() + ": " + answer->value("error", "refused"));
      }
      break;
    case K::partition:
    case K::heal:
    case K::link_delay:
      // Loopback has no per-link loss or delay to set; the simulator models them.
      emit("error", a.describe() + ": only the simulated lab (--mode sim) can do this");
      break;
    case K::fail_backend:
    case K::restore_backend:
      if (auto* b = backend(a.target)) b->failed = a.kind == K::fail_backend;
      if (auto it = servers_.find(a.target); it != servers_.end())
        it->second->failed = a.kind == K::fail_backend;
      break;
    default:
      for (const auto& c : plan_.change(a)) {
        auto* p = proc(c.node->name);
        if (!p) continue;
        p->cfg = config_for(*c.node, &c.vips);
        write_config(*p);
        stop(*p, SIGHUP);
      }
      break;
  }
}

// One HTTP GET to an NVA's proxy; the backend's X-Lab-Region header says who answered.
class LiveLab::Client : public Stream::Handler {
 public:
  Client(LiveLab& lab, Outcome o, std::function<void(Outcome)> done)
      : lab_(lab), o_(std::move(o)), done_(std::move(done)) {}

  void start(const Endpoint& to) {
    sent_ = lab_.loop_.now();
    timer_ = lab_.loop_.schedule(std::chrono::seconds(2), [this] { finish("timed out"); });
    token_ = lab_.transport_->connect(std::nullopt, to, [this](auto r) {
      if (!r) return finish(r.error());
      stream_ = std::move(*r);
      stream_->start(this);
      std::string req = "GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n";
      stream_->write(Bytes(reinterpret_cast<const std::byte*>(req.data()),
                           reinterpret_cast<const std::byte*>(req.data()) + req.size()));
    });
  }
  void on_data(ByteView d) override {
    reply_.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  void on_closed(const std::string& reason) override {
    if (reply_.empty()) return finish(reason);
    auto head = reply_.find("\r\n\r\n");
    auto status = reply_.substr(0, reply_.find("\r\n"));
    if (status.find(" 200 ") == std::string::npos) return finish(status);
    auto h = reply_.find("X-Lab-Region: ");
    if (h != std::string::npos && h < head) {
      auto end = reply_.find("\r\n", h);
      o_.region = reply_.substr(h + 14, end - h - 14);
    }
    o_.answer = head == std::string::npos ? "" : reply_.substr(head + 4);
    o_.ok = true;
    o_.rtt = lab_.loop_.now() - sent_;
    finish("");
  }

 private:
  void finish(const std::string& why) {
    if (!done_) return;
    lab_.loop_.cancel(timer_);
    if (!why.empty()) {
      o_.ok = false;
      o_.why = o_.hops.back() + ": " + why;
    }
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(o_));
    // Gone on the next turn: this may be inside the stream's own callback.
    lab_.later_.post([&lab = lab_, self = this] {
      lab.clients_.remove_if([self](const auto& c) { return c.get() == self; });
    });
  }

  LiveLab& lab_;
  Outcome o_;
  std::function<void(Outcome)> done_;
  std::shared_ptr<void> token_;
  std::unique_ptr<Stream> stream_;
  TimerId timer_ = 0;
  TimePoint sent_{};
  std::string reply_;
};

void LiveLab::request(const ClientSpec& c, uint64_t flow, std::function<void(Outcome)> done) {
  if (netns_) {
    // To the VIP itself: the namespaces' kernels forward it along the routes anycastd put in.
    ++*inflight_;
    std::thread([this, ns = ns_of_.at(c.name), to = map_target(c.target.address),
                 port = c.target.port, done = std::move(done), inflight = inflight_] {
      auto t0 = std::chrono::steady_clock::now();
      auto r = netns_http_get(ns, to, port);
      Outcome o;
      o.rtt = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - t0);
      o.ok = r.ok;
      o.region = r.region;
      o.answer = r.answer;
      o.why = r.why;
      asio::post(loop_.context(), [done, o] { done(o); });
      --*inflight;
    }).detach();
    (void)flow;
    return;
  }
  std::map<std::string, std::vector<Route>> tables;  // one read per device per request
  auto w = plan_.walk(
      c, flow,
      [&](const SimLab::Node& n, const IpAddress& dst, uint64_t f) -> std::optional<IpAddress> {
        auto it = tables.find(n.name);
        if (it == tables.end()) it = tables.emplace(n.name, routes(n.name)).first;
        const Route* longest = nullptr;
        for (const auto& r : it->second)
          if (r.best && contains(r.prefix, dst) &&
              (!longest || r.prefix.length() > longest->prefix.length()))
            longest = &r;
        if (!longest) return std::nullopt;
        std::vector<IpAddress> equal;
        for (const auto& r : it->second)
          if (r.prefix == longest->prefix && (r.best || r.multipath)) equal.push_back(r.next_hop);
        if (equal.size() <= 1 || n.ecmp <= 1) return longest->next_hop;
        std::sort(equal.begin(), equal.end());
        if (equal.size() > n.ecmp) equal.resize(n.ecmp);
        return equal[flow_hash(f, n.address) % equal.size()];
      });
  if (!w.nva) return done(std::move(w.outcome));
  clients_.push_back(std::make_unique<Client>(*this, std::move(w.outcome), std::move(done)));
  clients_.back()->start(map(Endpoint{w.nva->address, c.target.port}));
}

}  // namespace anycastd::lab
