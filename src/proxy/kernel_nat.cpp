#include "proxy/kernel_nat.hpp"

#include "core/internal_error.hpp"
#include "proxy/nat_slots.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
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

Result<std::unique_ptr<KernelNat>, std::string> KernelNat::load(uint32_t flows) {
  silence_libbpf();
  std::unique_ptr<KernelNat> n(new KernelNat);
  n->skel_ = nat_bpf::open();
  if (!n->skel_) return Err(bpf_failure("opening the BPF object", errno));
  for (auto* m : {n->skel_->maps.flows, n->skel_->maps.replies})
    bpf_map__set_max_entries(m, std::max<uint32_t>(flows, kMinFlows));
  if (int e = nat_bpf::load(n->skel_)) return Err(bpf_failure("loading the BPF program", e));
  int cpus = libbpf_num_possible_cpus();
  n->cpus_ = cpus > 0 ? static_cast<uint32_t>(cpus) : 1;
  return n;
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
  return Done{};
}

Status<> KernelNat::update(uint32_t service, const ServiceConfig& cfg,
                           const std::vector<BackendView>& backends, bool draining) {
  nat_service s{};
  for (size_t b = 0; b < backends.size(); ++b) {
    s.backends[b] = wire(cfg.backends[b].endpoint);
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
    r = attach_to(static_cast<int>(i->if_index), i->if_name);
  if_freenameindex(all);
  return r;
}

Status<> KernelNat::attach_to(int ifindex, const std::string& name) {
  std::lock_guard l(mu_);
  if (links_.count(ifindex)) return Done{};
  std::vector<int> fds;
  auto undo = [&] {
    for (int fd : fds) ::close(fd);
  };
  for (auto [prog, where, what] : {std::tuple{skel_->progs.nat, kTcxIngress, "ingress"},
                                   std::tuple{skel_->progs.nat_out, kTcxEgress, "egress"}}) {
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
  for (;;) {
    pollfd fds[2] = {{netlink_, POLLIN, 0}, {stop_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents) return;
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
      auto r = attach_to(ifi->ifi_index, name);
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
  }
  return sum;
}

}  // namespace anycastd::proxy
