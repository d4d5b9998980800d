#include "proxy/kernel_nat.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/balancer.hpp"
#include "proxy/bpf_errors.hpp"
#include "proxy/nat.skel.h"

namespace anycastd::proxy {

namespace {

// tcx (Linux 6.6): a link owned by its descriptor, so a program never outlives the process
// that attached it, as a cls_bpf filter left on the interface would. Debian 12's libbpf and
// headers predate the name.
constexpr int kTcxIngress = 46;

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
  for (int fd : links_) ::close(fd);
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
    // The threads' smooth weighted round robin lays out the slots: each backend gets slots
    // in proportion to its weight, interleaved, so that taking them in turn alternates as
    // the threads do. It has none to give when no backend is healthy.
    auto turns = make_balancer(Balance::round_robin, cfg.hash, backends);
    uint32_t i = 0;
    for (auto b = turns->pick({}); b && i < NAT_SLOTS; b = turns->pick({}))
      s.slots[i++] = static_cast<unsigned char>(*b);
    s.slots_used = i == NAT_SLOTS ? NAT_SLOTS : 0;
  }
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.services), &service, &s, BPF_ANY) < 0)
    return Err(bpf_failure("publishing the backends", errno));
  return Done{};
}

Status<> KernelNat::attach() {
  struct if_nameindex* all = if_nameindex();
  if (!all) return Err(bpf_failure("listing the interfaces", errno));
  std::string failed;
  for (auto* i = all; i->if_index != 0; ++i) {
    int fd = bpf_link_create(bpf_program__fd(skel_->progs.nat), static_cast<int>(i->if_index),
                             static_cast<bpf_attach_type>(kTcxIngress), nullptr);
    // An interface deleted since the listing (a lab's veth, say) needs no program.
    if (fd < 0 && errno == ENODEV) continue;
    if (fd < 0) {
      failed = bpf_failure(std::string("attaching to ") + i->if_name + "'s ingress", errno);
      break;
    }
    links_.push_back(fd);
  }
  if_freenameindex(all);
  if (!failed.empty()) return Err(failed);
  return Done{};
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
