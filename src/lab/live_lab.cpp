#include "lab/live_lab.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <list>
#include <set>
#include <sstream>

#include <asio/post.hpp>
#include "api/control_client.hpp"

#include "lab/forwarding.hpp"
#include "lab/http_backend.hpp"
#include "lab/sim_node.hpp"
#include "rib/route_table.hpp"
#include "runtime/asio/asio_transport.hpp"

namespace anycastd::lab {

using nlohmann::json;
using Kind = SimLab::Node::Kind;

struct LiveLab::Proc {
  std::string name;
  const SimLab::Node* node = nullptr;
  config::Config cfg;
  std::string file, sock, log;
  pid_t pid = -1;
};

struct LiveLab::Backend {
  const SimLab::Node* node = nullptr;
  bool failed = false;
  std::unique_ptr<Listener> listener;
  std::list<std::unique_ptr<HttpConnection>> connections;
};

LiveLab::LiveLab(const Topology& t, std::string anycastd, uint16_t port,
                 std::function<void(const std::string&)> progress, bool netns)
    : t_(t),
      plan_(t_),
      anycastd_(std::move(anycastd)),
      port_(port),
      progress_(std::move(progress)),
      transport_(std::make_unique<rt::AsioTransport>(loop_)),
      netns_(netns) {
  // Sorted, so that the order of addresses -- which decides "lowest next hop" -- holds on
  // loopback too.
  std::vector<IpAddress> all;
  for (const auto& n : plan_.nodes()) all.push_back(n->address);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  // Loopback block 127.(100 + port % 100)/16: runs on different ports never share an
  // address, so their backends and proxies (which keep their own ports) cannot collide.
  const uint32_t base =
      netns_ ? (198u << 24) | (18u << 16) : (127u << 24) | ((100u + port_ % 100u) << 16);
  auto nth = [&](size_t i) {
    return IpAddress::v4(base | static_cast<uint32_t>((i / 250) << 8) |
                         static_cast<uint32_t>(i % 250 + 1));
  };
  for (size_t i = 0; i < all.size(); ++i) {
    to_live_[all[i]] = nth(i);
    to_file_[nth(i)] = all[i];
  }
  for (size_t i = 0; i < t_.clients.size(); ++i)
    client_address_[t_.clients[i].name] = nth(all.size() + i);
  if (!netns_) return;
  // Every originated prefix gets a block of 198.19.0.0/16: up to /24 a /24, longer ones
  // their own length, host routes from the top.
  std::set<Prefix> originated;
  for (const auto& n : plan_.nodes()) {
    for (const auto& v : n->speaker_cfg.vips) originated.insert(v.prefix);
    if (n->hub_spec)
      for (const auto& sp : n->hub_spec->spokes) originated.insert(sp.prefix);
  }
  uint32_t block = 0, host = 0;
  for (const auto& p : originated) {
    if (p.family() != Family::v4) continue;
    Prefix live = p.length() == 32
                      ? Prefix(IpAddress::v4((198u << 24) | (19u << 16) | (255u << 8) | ++host), 32)
                      : Prefix(IpAddress::v4((198u << 24) | (19u << 16) | (block++ << 8)),
                               std::max<uint8_t>(p.length(), 24));
    to_live_prefix_[p] = live;
    to_file_prefix_[live] = p;
  }
}

Prefix LiveLab::map(const Prefix& p) const {
  auto it = to_live_prefix_.find(p);
  return it == to_live_prefix_.end() ? p : it->second;
}

Prefix LiveLab::unmap(const Prefix& p) const {
  auto it = to_file_prefix_.find(p);
  return it == to_file_prefix_.end() ? p : it->second;
}

// An address inside an originated prefix keeps its offset inside the mapped block.
IpAddress LiveLab::map_target(const IpAddress& a) const {
  const std::pair<const Prefix, Prefix>* best = nullptr;
  for (const auto& kv : to_live_prefix_)
    if (contains(kv.first, a) && (!best || kv.first.length() > best->first.length())) best = &kv;
  if (!best) return map(a);
  uint32_t size = best->second.length() == 32 ? 1u : (1u << (32 - best->second.length()));
  uint32_t offset = (a.v4_value() - best->first.address().v4_value()) % size;
  return IpAddress::v4(best->second.address().v4_value() + offset);
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

IpAddress LiveLab::map(const IpAddress& a) const {
  auto it = to_live_.find(a);
  return it == to_live_.end() ? a : it->second;
}

IpAddress LiveLab::unmap(const IpAddress& a) const {
  auto it = to_file_.find(a);
  return it == to_file_.end() ? a : it->second;
}

// Privileged ports move up by 20000, so live mode needs no root; netns mode has it.
Endpoint LiveLab::map(const Endpoint& e) const {
  if (netns_) return {map(e.address), e.port};
  return {map(e.address), static_cast<uint16_t>(e.port < 1024 ? e.port + 20000 : e.port)};
}

const SimLab::Node* LiveLab::device(const IpAddress& file_address) const {
  for (const auto& n : plan_.nodes())
    if (n->address == file_address) return n.get();
  return nullptr;
}

config::Config LiveLab::config_for(const SimLab::Node& n,
                                   const std::vector<bgp::VipConfig>* vips) const {
  config::Config c;
  c.bgp = n.speaker_cfg;
  if (vips) c.bgp.vips = *vips;
  c.bgp.listen_address = map(n.address);
  c.bgp.listen_port = port_;
  for (auto& p : c.bgp.peers) {
    p.address = map(p.address);
    p.local_address = map(p.local_address.value_or(n.address));
    p.port = port_;
    p.connect_retry = std::chrono::seconds(1);
    if (p.next_hop_v4) p.next_hop_v4 = map(*p.next_hop_v4);
  }
  for (auto& v : c.bgp.vips) {
    if (v.next_hop) v.next_hop = map(*v.next_hop);
    v.prefix = map(v.prefix);
  }
  if (netns_) {
    // Routers forward: their best routes go into their namespace's kernel table.
    c.fib.kernel = n.kind == Kind::router || n.kind == Kind::msee || n.kind == Kind::gateway;
  }
  for (auto& [_, pol] : c.bgp.policies) {
    for (auto& term : pol.terms) {
      for (auto& m : term.match.prefixes) {
        Prefix live = map(m.prefix);
        if (live == m.prefix) continue;
        int grow = live.length() - m.prefix.length();
        m.ge = static_cast<uint8_t>(std::min(32, m.ge + grow));
        m.le = static_cast<uint8_t>(std::min(32, m.le + grow));
        m.prefix = live;
      }
      for (auto& a : term.match.peers) a = map(a);
      if (term.actions.next_hop) term.actions.next_hop = map(*term.actions.next_hop);
    }
    // The file form has no "falls off the end" default: say it as a last term.
    policy::Term last;
    last.actions.verdict =
        pol.default_accept ? policy::Actions::Verdict::accept : policy::Actions::Verdict::reject;
    pol.terms.push_back(last);
  }
  c.control.socket = dir_ + "/" + n.name + ".sock";
  if (n.nva) {
    c.health = n.nva->config.health;
    if (netns_) {
      std::map<Prefix, health::VipHealthConfig> health;
      for (const auto& [p, h] : c.health.vips) health[map(p)] = h;
      c.health.vips = health;
    }
    for (auto& ch : c.health.checks) {
      ch.target = map(ch.target);
      if (ch.source) ch.source = map(*ch.source);
    }
    // The proxy: the NVA's own services, else one per client port on the NVA's address,
    // to the region's backends, each gated by the checks aimed at it.
    c.proxy = n.nva->config.proxy;
    c.proxy.threads = 1;
    if (c.proxy.services.empty()) {
      std::set<uint16_t> ports;
      for (const auto& cl : t_.clients) ports.insert(cl.target.port);
      for (uint16_t port : ports) {
        proxy::ServiceConfig svc;
        svc.name = "lab-" + std::to_string(port);
        svc.listen = {n.address, port};
        for (const auto& g : t_.regions)
          if (g.name == n.region)
            for (const auto& b : g.backends) {
              proxy::BackendConfig bc;
              bc.endpoint = b.at;
              for (const auto& ch : n.nva->config.health.checks)
                if (ch.target == b.at) bc.checks.push_back(ch.name);
              svc.backends.push_back(bc);
            }
        if (!svc.backends.empty()) c.proxy.services.push_back(svc);
      }
    }
    for (auto& svc : c.proxy.services) {
      if (netns_) {
        // The VIP itself, on the NVA's loopback, as on the real appliance.
        IpAddress vip =
            n.nva->config.bgp.vips.empty() ? n.address : n.nva->config.bgp.vips[0].prefix.address();
        for (const auto& cl : t_.clients)
          if (cl.target.port == svc.listen.port) vip = cl.target.address;
        svc.listen = {map_target(vip), svc.listen.port};
        svc.add_address = true;
        for (auto& b : svc.backends) b.endpoint = {map(b.endpoint.address), b.endpoint.port};
        continue;
      }
      // Listeners on the NVA's own address: the VIP itself is not on loopback here.
      svc.listen = map(Endpoint{n.address, svc.listen.port});
      svc.add_address = false;
      for (auto& b : svc.backends) b.endpoint = map(b.endpoint);
    }
  }
  return c;
}

void LiveLab::write_config(Proc& p) {
  std::ofstream out(p.file);
  out << "# " << p.name << ", generated by anycast-lab from " << t_.file << "\n"
      << config::print(p.cfg);
}

bool LiveLab::spawn(Proc& p) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
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

Result<bool, std::string> LiveLab::start_netns() {
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
  return true;
}

const SimLab::Node* LiveLab::device_named(const std::string& name) const {
  for (const auto& n : plan_.nodes())
    if (n->name == name) return n.get();
  return nullptr;
}

Result<bool, std::string> LiveLab::start() {
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
            missing = name + " with " +
                      unmap(*IpAddress::parse(peer["address"].get<std::string>())).to_string() +
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
  return true;
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
        loop_.schedule(std::chrono::milliseconds(50), [this, p] { stop(*p, SIGTERM); });
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

std::vector<LiveLab::Route> LiveLab::routes(const std::string& device) const {
  std::vector<Route> out;
  auto it = procs_.find(device);
  if (it == procs_.end()) return out;
  std::string err;
  auto j = api::ask(it->second->sock, {{"command", "show routes"}}, err, std::chrono::seconds(5));
  if (!j || !(*j)["ok"].get<bool>()) return out;
  for (const auto& r : (*j)["routes"]) {
    Route x;
    x.prefix = unmap(*Prefix::parse(r["prefix"].get<std::string>()));
    auto nh = IpAddress::parse(r["next_hop"].get<std::string>());
    x.next_hop = nh ? unmap(*nh) : IpAddress{};
    x.path = r["as_path"].get<std::string>();
    x.from = r["from"].get<std::string>();
    x.best = r["best"].get<bool>();
    x.multipath = r["multipath"].get<bool>();
    if (r["local_pref"].is_number()) x.local_pref = r["local_pref"].get<uint32_t>();
    out.push_back(x);
  }
  // As the simulated table ranks them: the chosen route first, then shorter paths, then
  // lower next hops.
  std::stable_sort(out.begin(), out.end(), [](const Route& a, const Route& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (a.best != b.best) return a.best;
    auto len = [](const std::string& p) {
      return p.empty() ? 0 : std::count(p.begin(), p.end(), ' ') + 1;
    };
    if (len(a.path) != len(b.path)) return len(a.path) < len(b.path);
    return a.next_hop < b.next_hop;
  });
  return out;
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
    lab_.loop_.post([&lab = lab_, self = this] {
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

std::string LiveLab::table(const std::string& device) const {
  std::vector<rib::AzRow> rows;
  for (const auto& r : routes(device))
    rows.push_back({std::to_string(r.local_pref.value_or(100)), r.prefix.to_string(),
                    r.next_hop.to_string() + (r.best ? "*" : ""), r.path, "0"});
  return rib::az_table(rows);
}

std::string LiveLab::msee_table(const std::string& circuit) const {
  return table("msee-" + circuit);
}
std::string LiveLab::router_table(const std::string& router) const {
  return table(router);
}

std::vector<std::string> LiveLab::msee_routes(const std::string& circuit, const Prefix& p) const {
  std::vector<std::string> out;
  for (const auto& r : routes("msee-" + circuit))
    if (r.prefix == p) out.push_back(r.next_hop.to_string() + " " + r.path);
  return out;
}

std::string LiveLab::msee_chosen_region(const std::string& circuit, const Prefix& p) const {
  for (const auto& r : routes("msee-" + circuit))
    if (r.prefix == p && r.best) {
      const auto* n = device(r.next_hop);
      return n && !n->region.empty() ? n->region : r.next_hop.to_string();
    }
  return "none";
}

bool LiveLab::route_server_has(const std::string& hub, const Prefix& p) const {
  for (const auto& [name, proc] : procs_)
    if (proc->node->kind == Kind::route_server && proc->node->hub == hub)
      for (const auto& r : routes(name))
        if (r.prefix == p && r.best && r.from != "local") return true;
  return false;
}

std::string LiveLab::route_server_table(const std::string& hub) const {
  std::ostringstream o;
  int role = 0;
  for (const auto& n : plan_.nodes()) {
    if (n->kind != Kind::route_server || n->hub != hub) continue;
    o << "RouteServiceRole_IN_" << role++ << " (" << n->name << ", " << n->address.to_string()
      << ")\n";
    bool any = false;
    for (const auto& r : routes(n->name)) {
      auto from = IpAddress::parse(r.from);
      const auto* peer = from ? device(unmap(*from)) : nullptr;
      if (!peer || peer->kind != Kind::nva) continue;
      any = true;
      std::string path = r.path;
      std::replace(path.begin(), path.end(), ' ', '-');
      o << "  network " << r.prefix.to_string() << "  nextHop " << r.next_hop.to_string()
        << "  asPath " << path << "  sourcePeer " << peer->address.to_string() << " (" << peer->name
        << ")\n";
    }
    if (!any) o << "  (no routes learned from NVAs)\n";
  }
  return o.str();
}

}  // namespace anycastd::lab
