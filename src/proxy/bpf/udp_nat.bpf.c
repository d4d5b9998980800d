// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// The proxy's in-kernel UDP path: a tc ingress program that forwards a UDP service's
// datagrams by rewriting their addresses, so that no datagram crosses into user space.
//
// A query to a VIP (a `vips` key) is given its backend's address and port (chosen by the
// service's slot table, by a hash of the client's address and port, and then kept for the
// flow in `flows` while the backend stays healthy) and goes on up the stack: to the backend's
// socket if it is local, or forwarded by the kernel's routing if it is not. The answer, seen
// on its way back by the same program (a `replies` key), is given the VIP's address and port
// as its source, so that the client sees it come from where it sent the query, as on the
// user-space path. The backend sees the client's own address; its answers must come back
// through this host (a local backend, or a route through the NVA), as with LVS-NAT.
//
// A query that would start a flow while the service has no healthy backend, or drains, is
// left to the proxy's own socket, which handles it as the user-space path does. IPv6 and
// IPv4 fragments are left alone too.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
// libbpf's helpers use the kernel's types: after linux/bpf.h.
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "udp_nat_shared.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, struct nat_endpoint);
  __type(value, __u32);  // the service's index
} vips SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, struct nat_service);
} services SEC(".maps");

struct flow {
  __u32 service, backend;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);  // set at load from the services' max-connections
  __type(key, struct nat_flow_key);
  __type(value, struct flow);
} flows SEC(".maps");

struct reply {
  struct nat_endpoint vip;
  __u32 service, backend;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct nat_reply_key);
  __type(value, struct reply);
} replies SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 64 * NAT_BACKENDS);
  __type(key, __u32);
  __type(value, struct nat_counters);
} counters SEC(".maps");

// tcx runs an interface's programs in turn until one returns anything but "next" (-1, which
// is TC_ACT_UNSPEC): TC_ACT_OK would keep every later program, another anycastd's included,
// from seeing the packet. So this one says "next" for all it lets through, translated or not.
#define NEXT TC_ACT_UNSPEC

#define IP_OFF ETH_HLEN
#define UDP_OFF (ETH_HLEN + sizeof(struct iphdr))
#define IP_CSUM (IP_OFF + __builtin_offsetof(struct iphdr, check))
#define UDP_CSUM (UDP_OFF + __builtin_offsetof(struct udphdr, check))

static __always_inline struct nat_counters* counter(__u32 service, __u32 backend) {
  __u32 k = service * NAT_BACKENDS + backend;
  return bpf_map_lookup_elem(&counters, &k);
}

// Rewrites one address and one port (source or destination) with their checksums. A UDP
// checksum of 0 means none was sent; BPF_F_MARK_MANGLED_0 keeps it so.
static __always_inline int rewrite(struct __sk_buff* skb, int udp_csum_set, __u32 addr_off,
                                   __u32 old_addr, __u32 new_addr, __u32 port_off, __u16 old_port,
                                   __u16 new_port) {
  if (udp_csum_set) {
    if (bpf_l4_csum_replace(skb, UDP_CSUM, old_addr, new_addr,
                            BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | sizeof(new_addr)))
      return -1;
    if (bpf_l4_csum_replace(skb, UDP_CSUM, old_port, new_port,
                            BPF_F_MARK_MANGLED_0 | sizeof(new_port)))
      return -1;
  }
  if (bpf_l3_csum_replace(skb, IP_CSUM, old_addr, new_addr, sizeof(new_addr))) return -1;
  if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0)) return -1;
  if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0)) return -1;
  return 0;
}

static __always_inline __u32 pick(const struct nat_service* s, __u32 addr, __u16 port) {
  __u32 h = addr * 0x9e3779b1u ^ ((__u32)port * 0x85ebca6bu);
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  return s->slots[h % NAT_SLOTS];
}

SEC("tc")
int udp_nat(struct __sk_buff* skb) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return NEXT;
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  struct iphdr* ip = data + IP_OFF;
  struct udphdr* udp = data + UDP_OFF;
  if ((void*)(udp + 1) > end) return NEXT;
  // Options move the UDP header; fragments after the first have none.
  if (ip->protocol != IPPROTO_UDP || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
    return NEXT;
  const __u32 saddr = ip->saddr, daddr = ip->daddr;
  const __u16 sport = udp->source, dport = udp->dest;
  if (bpf_ntohs(udp->len) < sizeof(struct udphdr)) return NEXT;  // the stack drops it
  const int csum_set = udp->check != 0;
  const __u64 bytes = bpf_ntohs(udp->len) - sizeof(struct udphdr);  // the payload, as recv counts

  struct nat_endpoint to = {.addr = daddr, .port = dport};
  __u32* service = bpf_map_lookup_elem(&vips, &to);
  if (service) {
    __u32 si = *service;
    struct nat_service* s = bpf_map_lookup_elem(&services, &si);
    if (!s) return NEXT;
    struct nat_flow_key fk = {
        .client_addr = saddr, .vip_addr = daddr, .client_port = sport, .vip_port = dport};
    struct flow* f = bpf_map_lookup_elem(&flows, &fk);
    __u32 b;
    int fresh = 0;
    // A flow stays with its backend while that is healthy, draining or not.
    if (f && f->service == si && f->backend < NAT_BACKENDS && (s->healthy >> f->backend) & 1) {
      b = f->backend;
    } else {
      if (!s->slots_used) return NEXT;
      b = pick(s, saddr, s->hash_port ? sport : 0);
      if (b >= NAT_BACKENDS) return NEXT;
      struct flow nf = {.service = si, .backend = b};
      bpf_map_update_elem(&flows, &fk, &nf, BPF_ANY);
      fresh = 1;
    }
    struct nat_endpoint be = s->backends[b];
    struct nat_reply_key rk = {.backend_addr = be.addr,
                               .client_addr = saddr,
                               .backend_port = be.port,
                               .client_port = sport};
    if (fresh) {
      struct reply r = {.vip = to, .service = si, .backend = b};
      bpf_map_update_elem(&replies, &rk, &r, BPF_ANY);
    }
    if (rewrite(skb, csum_set, IP_OFF + __builtin_offsetof(struct iphdr, daddr), daddr, be.addr,
                UDP_OFF + __builtin_offsetof(struct udphdr, dest), dport, be.port))
      return TC_ACT_SHOT;
    struct nat_counters* c = counter(si, b);
    if (c) {
      c->queries++;
      c->query_bytes += bytes;
      c->flows += fresh;
    }
    return NEXT;
  }

  struct nat_reply_key rk = {
      .backend_addr = saddr, .client_addr = daddr, .backend_port = sport, .client_port = dport};
  struct reply* r = bpf_map_lookup_elem(&replies, &rk);
  if (!r) return NEXT;
  struct reply rv = *r;
  if (rewrite(skb, csum_set, IP_OFF + __builtin_offsetof(struct iphdr, saddr), saddr, rv.vip.addr,
              UDP_OFF + __builtin_offsetof(struct udphdr, source), sport, rv.vip.port))
    return TC_ACT_SHOT;
  struct nat_counters* c = counter(rv.service, rv.backend);
  if (c) {
    c->answers++;
    c->answer_bytes += bytes;
  }
  return NEXT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
