#include "proxy/kernel_nat.hpp"

#include "core/internal_error.hpp"
#include "proxy/nat_slots.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>

#include "proxy/balancer.hpp"
#include "proxy/bpf_errors.hpp"
#include "proxy/nat.skel.h"

namespace anycastd::proxy {

namespace {

// tcx (Linux 6.6): a link owned by its descriptor, so a program never outlives the process
// that attached it, as a cls_bpf filter left on the interface would. Debian 12's libbpf and
// headers predate the name.
constexpr int kTcxIngress = 46, kTcxEgress = 47;
constexpr long kBpfFsMagic = 0xcafe4a11;

// Interfaces whose packets start at their IP header in tc: tunnels and point-to-point links.
bool without_link_header(unsigned short type) {
  switch (type) {
    case ARPHRD_NONE:  // tun, WireGuard
    case ARPHRD_TUNNEL:
    case ARPHRD_TUNNEL6:
    case ARPHRD_IPGRE:
    case ARPHRD_SIT:
    case ARPHRD_PPP:
    case ARPHRD_RAWIP:
      return true;
    default:
      return false;
  }
}

unsigned short link_type(const char* name) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq req{};
  std::strncpy(req.ifr_name, name, IFNAMSIZ - 1);
  unsigned short type = ARPHRD_ETHER;
  if (fd >= 0 && ::ioctl(fd, SIOCGIFHWADDR, &req) == 0) type = req.ifr_hwaddr.sa_family;
  if (fd >= 0) ::close(fd);
  return type;
}

nat_endpoint wire(const Endpoint& e) {
  return {htonl(e.address.v4_value()), htons(e.port), 0, 0};
}

}  // namespace

std::string KernelNat::unsuited(const ServiceConfig& cfg) {
  if (!cfg.listen.address.is_v4()) return "address translation is IPv4 only";
  if (cfg.proxy_protocol) return "address translation sends no PROXY header";
  static_assert(kNatBackends == NAT_BACKENDS);
  if (cfg.backends.size() > NAT_BACKENDS)
    return "address translation takes at most " + std::to_string(NAT_BACKENDS) + " backends";
  for (const auto& b : cfg.backends)
    if (!b.endpoint.address.is_v4())
      return "backend " + b.name() + ": address translation is IPv4 only";
  return {};
}

namespace {

// The tables outlive the process only on a bpf filesystem (/sys/fs/bpf, which systemd mounts).
std::string unpinnable(const std::string& dir) {
  std::string probe = dir;
  struct statfs fs {};
  // The nearest directory that exists tells which filesystem the tables would land on.
  while (!probe.empty() && ::statfs(probe.c_str(), &fs) != 0) {
    auto slash = probe.find_last_of('/');
    probe = slash == std::string::npos || slash == 0 ? "/" : probe.substr(0, slash);
    if (probe == "/") break;
  }
  if (fs.f_type != kBpfFsMagic)
    return probe + " is no bpf filesystem (mount -t bpf bpf /sys/fs/bpf)";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    // One level at a time: bpffs has no mkdir -p of its own.
    for (size_t at = 1; at != std::string::npos; at = dir.find('/', at + 1))
      if (::mkdir(dir.substr(0, at).c_str(), 0700) != 0 && errno != EEXIST && at > 1)
        return "cannot make " + dir.substr(0, at) + ": " + std::strerror(errno);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot make " + dir + ": " + std::strerror(errno);
  }
  return {};
}

// Tables an anycastd with another layout left (an upgrade or a downgrade of the package):
// this one cannot read them, and they hold kernel memory. Their names, or "".
std::string forget_other_layouts(const std::string& state, const std::string& mine) {
  std::string gone;
  DIR* d = ::opendir(state.c_str());
  if (!d) return gone;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name, path = state + "/" + name;
    if (name.size() < 2 || name[0] != 'v' || path == mine) continue;
    if (name.find_first_not_of("0123456789", 1) != std::string::npos) continue;
    for (const char* table : {"conns", "flows"}) ::unlink((path + "/" + table).c_str());
    ::rmdir(path.c_str());
    gone += (gone.empty() ? "" : ", ") + path;
  }
  ::closedir(d);
  return gone;
}

uint64_t entries(int fd) {
  nat_flow_key k{}, next{};
  uint64_t n = 0;
  for (const void* at = nullptr; bpf_map_get_next_key(fd, at, &next) == 0; at = &k) {
    k = next;
    ++n;
  }
  return n;
}

}  // namespace

Result<std::unique_ptr<KernelNat>, std::string> KernelNat::load(uint32_t flows,
                                                                const std::string& state,
                                                                const Notice& notice) {
  silence_libbpf();
  auto tell = [&](bool trouble, const std::string& what) {
    if (notice) notice(trouble, what);
  };
  std::string dir;
  if (!state.empty()) {
    dir = state + "/v" + std::to_string(NAT_STATE_VERSION);
    if (auto why = unpinnable(dir); !why.empty()) {
      tell(true, "address translation's connections will not outlive this process: " + why);
      dir.clear();
    } else if (auto old = forget_other_layouts(state, dir); !old.empty()) {
      tell(true, "address translation's tables of another layout (" + old +
                     ") were not adopted and are removed: open connections through them will "
                     "be reset");
    }
  }
  const std::string conns = dir + "/conns", opening = dir + "/flows";
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<KernelNat> n(new KernelNat);
    n->skel_ = nat_bpf::open();
    if (!n->skel_) return Err(bpf_failure("opening the BPF object", errno));
    for (auto* m : {n->skel_->maps.flows, n->skel_->maps.conns})
      bpf_map__set_max_entries(m, std::max<uint32_t>(flows, kMinFlows));
    bool adopting = false;
    if (!dir.empty()) {
      adopting = ::access(conns.c_str(), F_OK) == 0;
      bpf_map__set_pin_path(n->skel_->maps.conns, conns.c_str());
      bpf_map__set_pin_path(n->skel_->maps.flows, opening.c_str());
    }
    if (int e = nat_bpf::load(n->skel_)) {
      // Tables of another size (max-connections changed) cannot be adopted: start afresh.
      if (adopting && attempt == 0) {
        ::unlink(conns.c_str());
        ::unlink(opening.c_str());
        tell(true, "address translation's tables in " + dir +
                       " do not fit this configuration (max-connections changed): started "
                       "afresh, open connections through it will be reset");
        continue;
      }
      return Err(bpf_failure("loading the BPF program", e));
    }
    int cpus = libbpf_num_possible_cpus();
    n->cpus_ = cpus > 0 ? static_cast<uint32_t>(cpus) : 1;
    if (adopting)
      tell(false, "address translation adopted " +
                      std::to_string(entries(bpf_map__fd(n->skel_->maps.conns))) +
                      " established and " +
                      std::to_string(entries(bpf_map__fd(n->skel_->maps.flows))) +
                      " opening flows from " + dir);
    return n;
  }
}

KernelNat::~KernelNat() {
  if (watcher_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof one);
    watcher_.join();
  }
  for (int fd : {netlink_, stop_})
    if (fd >= 0) ::close(fd);
  for (auto& [index, fds] : links_)
    for (int fd : fds) ::close(fd);
  if (skel_) nat_bpf::destroy(skel_);
}

Status<> KernelNat::add(uint32_t service, const ServiceConfig& cfg) {
  if (service >= kMaxServices)
    return Err("address translation takes at most " + std::to_string(kMaxServices) + " services");
  nat_endpoint vip = wire(cfg.listen);
  vip.proto = cfg.protocol == Protocol::tcp ? IPPROTO_TCP : IPPROTO_UDP;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.vips), &vip, &service, BPF_ANY) < 0)
    return Err(bpf_failure("adding the VIP", errno));
  std::lock_guard l(table_mu_);
  if (idle_.size() <= service) {
    idle_.resize(service + 1, cfg.idle_timeout);
    tables_.resize(service + 1);
  }
  idle_[service] = cfg.idle_timeout;
  return Done{};
}

Status<> KernelNat::update(uint32_t service, const ServiceConfig& cfg,
                           const std::vector<BackendConfig>& configs,
                           const std::vector<BackendView>& backends, bool draining) {
  if (configs.size() > NAT_BACKENDS || backends.size() != configs.size())
    return Err("address translation takes at most " + std::to_string(NAT_BACKENDS) + " backends");
  nat_service s{};
  for (size_t b = 0; b < backends.size(); ++b) {
    s.backends[b] = wire(configs[b].endpoint);
    if (backends[b].healthy) s.healthy |= uint64_t{1} << b;
  }
  s.hash_port = cfg.hash == HashOn::five_tuple;
  s.round_robin = cfg.balance != Balance::maglev;  // leastconn has no counts here
  if (!draining) {
    auto slots = nat_slots(cfg, backends);
    std::copy(slots.begin(), slots.end(), s.slots);
    s.slots_used = static_cast<uint32_t>(slots.size());
  }
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.services), &service, &s, BPF_ANY) < 0)
    return Err(bpf_failure("publishing the backends", errno));
  // Where the backends' answers come from, for the way back; the configuration keeps one
  // VIP per backend address and port.
  nat_origin o{};
  o.vip = wire(cfg.listen);
  o.service = service;
  const uint8_t proto = cfg.protocol == Protocol::tcp ? IPPROTO_TCP : IPPROTO_UDP;
  std::vector<nat_endpoint> keys;
  for (size_t b = 0; b < configs.size(); ++b) {
    auto k = wire(configs[b].endpoint);
    k.proto = proto;
    o.index = static_cast<uint32_t>(b);
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.origins), &k, &o, BPF_ANY) < 0)
      return Err(bpf_failure("publishing the backends' way back", errno));
    keys.push_back(k);
  }
  std::lock_guard l(table_mu_);
  for (const auto& old : origins_[service]) {
    bool kept = false;
    for (const auto& k : keys) kept |= std::memcmp(&k, &old, sizeof k) == 0;
    if (!kept) bpf_map_delete_elem(bpf_map__fd(skel_->maps.origins), &old);
  }
  origins_[service] = std::move(keys);
  return Done{};
}

Status<> KernelNat::attach(Notice notice) {
  notice_ = std::move(notice);
  // Subscribed before the listing, so that no interface falls between the two.
  netlink_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  sockaddr_nl groups{};
  groups.nl_family = AF_NETLINK;
  groups.nl_groups = RTMGRP_LINK;
  if (netlink_ < 0 || ::bind(netlink_, reinterpret_cast<sockaddr*>(&groups), sizeof groups) < 0)
    return Err(bpf_failure("watching for new interfaces (netlink)", errno));
  if (auto r = attach_all(); !r) return r;
  stop_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_ < 0) return Err(bpf_failure("watching for new interfaces (eventfd)", errno));
  // Threads start in their creator's network namespace, which is the one listed above.
  watcher_ = std::thread([this] { watch(); });
  return Done{};
}

Status<> KernelNat::attach_all() {
  struct if_nameindex* all = if_nameindex();
  if (!all) return Err(bpf_failure("listing the interfaces", errno));
  Status<> r = Done{};
  for (auto* i = all; i->if_index != 0 && r; ++i)
    r = attach_to(static_cast<int>(i->if_index), i->if_name, link_type(i->if_name));
  if_freenameindex(all);
  return r;
}

Status<> KernelNat::attach_to(int ifindex, const std::string& name, unsigned short type) {
  std::lock_guard l(mu_);
  if (links_.count(ifindex)) return Done{};
  std::vector<int> fds;
  auto undo = [&] {
    for (int fd : fds) ::close(fd);
  };
  const bool l3 = without_link_header(type);
  for (auto [prog, where, what] :
       {std::tuple{l3 ? skel_->progs.nat_l3 : skel_->progs.nat, kTcxIngress, "ingress"},
        std::tuple{l3 ? skel_->progs.nat_out_l3 : skel_->progs.nat_out, kTcxEgress, "egress"}}) {
    int fd = bpf_link_create(bpf_program__fd(prog), ifindex, static_cast<bpf_attach_type>(where),
                             nullptr);
    // An interface deleted since it was announced (a lab's veth, say) needs no program.
    if (fd < 0 && errno == ENODEV) {
      undo();
      return Done{};
    }
    if (fd < 0) {
      int e = errno;
      undo();
      return Err(bpf_failure("attaching to " + name + "'s " + what, e));
    }
    fds.push_back(fd);
  }
  links_[ifindex] = std::move(fds);
  return Done{};
}

void KernelNat::watch() {
  std::vector<char> buf(64 * 1024);
  auto sweep_due = std::chrono::steady_clock::now() + kSweepInterval;
  for (;;) {
    pollfd fds[2] = {{netlink_, POLLIN, 0}, {stop_, POLLIN, 0}};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        sweep_due - std::chrono::steady_clock::now());
    if (::poll(fds, 2, static_cast<int>(std::max<int64_t>(wait.count(), 0))) < 0 && errno != EINTR)
      return;
    if (fds[1].revents) return;
    if (std::chrono::steady_clock::now() >= sweep_due) {
      guarded("address translation's sweep", [&] { sweep(); });
      sweep_due = std::chrono::steady_clock::now() + kSweepInterval;
    }
    if (!fds[0].revents) continue;
    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(netlink_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                           &from_len);
    if (n < 0 && errno == ENOBUFS) {
      // Announcements were lost while the queue was full: whatever exists now gets the
      // program.
      if (auto r = attach_all(); !r && notice_) notice_(true, r.error());
      continue;
    }
    // Only the kernel speaks for the interfaces; a process may send to this socket too.
    if (n <= 0 || from.nl_pid != 0) continue;
    // On this thread of its own, a throw would end the process: the last resort drops the
    // batch of announcements instead, and the next one (or an ENOBUFS) attaches what exists.
    guarded("an interface announcement (netlink)", [&] { on_links(buf.data(), n); });
  }
}

void KernelNat::on_links(const char* data, ssize_t n) {
  {
    auto left = static_cast<unsigned>(n);  // NLMSG_OK compares it with a __u32
    for (auto* h = reinterpret_cast<const nlmsghdr*>(data); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
      auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof *ifi)) continue;
      std::string name = "interface " + std::to_string(ifi->ifi_index);
      int len = static_cast<int>(IFLA_PAYLOAD(h));
      for (auto* a = IFLA_RTA(const_cast<ifinfomsg*>(ifi)); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_IFNAME)
          name.assign(static_cast<const char*>(RTA_DATA(a)),
                      strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
      if (h->nlmsg_type == RTM_DELLINK) {
        // The kernel detached the program with the interface; the link is an empty shell.
        std::lock_guard l(mu_);
        if (auto i = links_.find(ifi->ifi_index); i != links_.end()) {
          for (int fd : i->second) ::close(fd);
          links_.erase(i);
        }
        continue;
      }
      bool known;
      {
        std::lock_guard l(mu_);
        known = links_.count(ifi->ifi_index) > 0;
      }
      if (known) continue;  // a change of state of an interface that has the program
      auto r = attach_to(ifi->ifi_index, name, ifi->ifi_type);
      if (!notice_) continue;
      if (!r) {
        notice_(true, r.error() + ": its packets to the VIPs are not translated");
        continue;
      }
      bool attached;  // not if it went as it came
      {
        std::lock_guard l(mu_);
        attached = links_.count(ifi->ifi_index) > 0;
      }
      if (attached)
        notice_(false, "address translation now on " + name + ", which appeared after start");
    }
  }
}

nat_counters KernelNat::count(uint32_t service, uint32_t backend) const {
  std::vector<nat_counters> per_cpu(cpus_);
  uint32_t k = service * NAT_BACKENDS + backend;
  nat_counters sum{};
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &k, per_cpu.data()) < 0) return sum;
  for (const auto& c : per_cpu) {
    sum.to_backend += c.to_backend;
    sum.to_backend_bytes += c.to_backend_bytes;
    sum.to_client += c.to_client;
    sum.to_client_bytes += c.to_client_bytes;
    sum.flows += c.flows;
    sum.takeovers += c.takeovers;
    sum.full += c.full;
    sum.cached += c.cached;
    sum.promoted += c.promoted;
  }
  return sum;
}

}  // namespace anycastd::proxy

namespace anycastd::proxy {

KernelNat::Table KernelNat::table(uint32_t service) const {
  std::lock_guard l(table_mu_);
  return service < tables_.size() ? tables_[service] : Table{};
}

void KernelNat::sweep() {
  std::vector<Duration> idle;
  {
    std::lock_guard l(table_mu_);
    idle = idle_;
  }
  std::vector<Table> counted(idle.size());
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns()'s clock
  const uint64_t now = uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
  auto ns = [](Duration d) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  };
  for (int fd : {bpf_map__fd(skel_->maps.conns), bpf_map__fd(skel_->maps.flows)}) {
    const bool cache = fd == bpf_map__fd(skel_->maps.flows);
    std::vector<nat_flow_key> gone;
    nat_flow_key k{}, next{};
    auto expired = [&](const nat_flow_key& key, const nat_conn& c) {
      Duration timeout = kOpeningTimeout;
      if (c.state == NAT_CLOSED)
        timeout = kClosedTimeout;
      else if (c.state == NAT_CLOSING)
        timeout = kClosingTimeout;
      else if ((c.state == NAT_ESTABLISHED || key.proto != IPPROTO_TCP) && c.service < idle.size())
        timeout = idle[c.service];
      return now > c.seen && now - c.seen > ns(timeout);
    };
    for (const void* at = nullptr; bpf_map_get_next_key(fd, at, &next) == 0; at = &k) {
      k = next;
      nat_conn c{};
      if (bpf_map_lookup_elem(fd, &k, &c) != 0) continue;
      if (expired(k, c)) {
        gone.push_back(k);
        continue;
      }
      if (c.service >= counted.size()) continue;
      auto& t = counted[c.service];
      t.cache += cache;
      ++(c.state >= NAT_CLOSING       ? t.closing
         : c.state == NAT_ESTABLISHED ? t.established
                                      : t.opening);
    }
    // Deleted after the walk, which a deletion would send back to the start.
    for (const auto& g : gone) {
      nat_conn c{};  // a packet may have passed since: looked at again
      if (bpf_map_lookup_elem(fd, &g, &c) != 0 || !expired(g, c)) continue;
      if (bpf_map_delete_elem(fd, &g) == 0 && c.service < counted.size()) {
        ++counted[c.service].expired;
        counted[c.service].cache_expired += cache;
      }
    }
  }
  std::lock_guard l(table_mu_);
  for (size_t i = 0; i < counted.size() && i < tables_.size(); ++i) {
    counted[i].expired += tables_[i].expired;
    counted[i].cache_expired += tables_[i].cache_expired;
    tables_[i] = counted[i];
  }
}

}  // namespace anycastd::proxy
