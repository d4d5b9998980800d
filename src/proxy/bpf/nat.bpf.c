// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// The proxy's address-translation path (`forwarding: nat`): tc programs (ingress, egress) that
// forwards a service's TCP segments or UDP datagrams by rewriting their addresses, as LVS-NAT
// does, so that none crosses into user space.
//
// A packet to a VIP (a `vips` key) is given its backend's address and port and goes on up the
// stack: to the backend's socket if it is local, or forwarded by the kernel's routing if it is
// not. The backend is chosen by the service's slot table, by a hash of the client's address
// (and port, with `hash: 5-tuple`), when a flow starts (a UDP datagram from a new client
// socket, a TCP SYN) and is kept for the flow in `flows`; with round robin the slots are taken
// in turn instead. The backend's packets to the client,
// seen on their way back by the same program (a `replies` key), are given the VIP's address
// and port as their source, so the client sees the VIP answer, as on the user-space path, and
// are sent on towards the client from here (see send_on); a backend on this host itself
// answers through no ingress, so its answers are translated on their way out (nat_out). The
// backend sees the client's own address; its packets must come back through this host (a
// local backend, or a route through the NVA).
//
// A UDP flow moves to another backend when its own is no longer healthy; a TCP connection
// keeps its backend to the end (elsewhere it would only meet a reset). A flow that would start
// while the service has no healthy backend, or drains, is left to the proxy's own socket,
// which handles it as the user-space path does. IPv6, IPv4 with options and fragments are
// left alone too.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
// libbpf's helpers use the kernel's types: after linux/bpf.h.
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "nat_shared.h"

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
#define L4_OFF (ETH_HLEN + sizeof(struct iphdr))
#define IP_CSUM (IP_OFF + __builtin_offsetof(struct iphdr, check))
#define SRC_ADDR (IP_OFF + __builtin_offsetof(struct iphdr, saddr))
#define DST_ADDR (IP_OFF + __builtin_offsetof(struct iphdr, daddr))
#define SRC_PORT L4_OFF  // the same place in TCP and UDP headers
#define DST_PORT (L4_OFF + 2)

static __always_inline struct nat_counters* counter(__u32 service, __u32 backend) {
  __u32 k = service * NAT_BACKENDS + backend;
  return bpf_map_lookup_elem(&counters, &k);
}

// Rewrites one address and one port (source or destination) with their checksums. A UDP
// checksum of 0 means none was sent (csum_off 0); BPF_F_MARK_MANGLED_0 keeps a computed one
// from becoming 0.
static __always_inline int rewrite(struct __sk_buff* skb, __u32 csum_off, __u32 addr_off,
                                   __u32 old_addr, __u32 new_addr, __u32 port_off, __u16 old_port,
                                   __u16 new_port) {
  if (csum_off) {
    if (bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr,
                            BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | sizeof(new_addr)))
      return -1;
    if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port,
                            BPF_F_MARK_MANGLED_0 | sizeof(new_port)))
      return -1;
  }
  if (bpf_l3_csum_replace(skb, IP_CSUM, old_addr, new_addr, sizeof(new_addr))) return -1;
  if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0)) return -1;
  if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0)) return -1;
  return 0;
}

// Each CPU's place in each service's slots, for round robin: per CPU, so that no two CPUs
// contend for one counter; each CPU's flows alternate, so the whole stays within a flow per
// CPU of the weights.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} turns SEC(".maps");

#define AF_INET 2
#define TTL_PROTO (IP_OFF + __builtin_offsetof(struct iphdr, ttl))  // ttl, then protocol

// An answer now has the VIP, an address of this host's own, as its source. The stack would
// take it for a spoofed packet on any interface but loopback (a martian source) and drop it,
// so an answer to a client elsewhere is routed here and sent out, its TTL one less, as the
// stack forwards. An answer to a local client, or one the FIB cannot route (forwarding off on
// the interface it came in on, a packet too big), goes on up the stack.
static __always_inline int send_on(struct __sk_buff* skb, __u8 tos, __u16 tot_len, __u8 proto,
                                   __u32 saddr, __u32 daddr) {
  struct bpf_fib_lookup fib = {.family = AF_INET,
                               .tos = tos,
                               .l4_protocol = proto,
                               .tot_len = tot_len,
                               .ifindex = skb->ingress_ifindex,
                               .ipv4_src = saddr,
                               .ipv4_dst = daddr};
  long found = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
  if (found != BPF_FIB_LKUP_RET_SUCCESS && found != BPF_FIB_LKUP_RET_NO_NEIGH) return NEXT;
  __u16 old_word, new_word;
  if (bpf_skb_load_bytes(skb, TTL_PROTO, &old_word, sizeof(old_word))) return NEXT;
  __u8* ttl = (__u8*)&old_word;
  if (*ttl <= 1) return NEXT;  // the stack answers with ICMP time exceeded
  new_word = old_word;
  ((__u8*)&new_word)[0] = *ttl - 1;
  if (bpf_l3_csum_replace(skb, IP_CSUM, old_word, new_word, sizeof(new_word))) return TC_ACT_SHOT;
  if (bpf_skb_store_bytes(skb, TTL_PROTO, &new_word, sizeof(new_word), 0)) return TC_ACT_SHOT;
  // The kernel finds the next hop and its link-layer address itself, as for a routed packet.
  return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
}

// NAT_SLOTS is prime (Maglev's table), so `% NAT_SLOTS` is no mask: the verifier cannot bound
// it, and clang would drop a plain check that it knows holds. The barrier hides the range
// from clang, so the check stays and bounds the index for the verifier.
static __always_inline __u32 slot(const struct nat_service* s, __u32 n) {
  __u32 i = n % NAT_SLOTS;
  asm volatile("" : "+r"(i));
  if (i >= NAT_SLOTS) i = 0;
  return s->slots[i];
}

static __always_inline __u32 pick(const struct nat_service* s, __u32 si, __u32 addr, __u16 port) {
  if (s->round_robin) {
    __u32* t = bpf_map_lookup_elem(&turns, &si);
    if (t) return slot(s, (*t)++);
  }
  __u32 h = addr * 0x9e3779b1u ^ ((__u32)port * 0x85ebca6bu);
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  return slot(s, h);
}

// What the program reads of a packet, once its headers are known to be there.
struct packet {
  __u32 saddr, daddr, csum_off;
  __u64 bytes;  // payload
  __u16 sport, dport, tot_len;
  __u8 proto, tos, syn;
};

// 0 for an IPv4 TCP segment or UDP datagram without options that is not a later fragment.
static __always_inline int parse(struct __sk_buff* skb, struct packet* p) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return -1;
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  struct iphdr* ip = data + IP_OFF;
  if ((void*)(ip + 1) > end) return -1;
  // Options move the transport header; fragments after the first have none.
  if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff))) return -1;
  p->proto = ip->protocol;
  p->syn = 0;
  if (p->proto == IPPROTO_UDP) {
    struct udphdr* udp = data + L4_OFF;
    if ((void*)(udp + 1) > end) return -1;
    if (bpf_ntohs(udp->len) < sizeof(struct udphdr)) return -1;  // the stack drops it
    p->csum_off = udp->check ? L4_OFF + __builtin_offsetof(struct udphdr, check) : 0;
    p->bytes = bpf_ntohs(udp->len) - sizeof(struct udphdr);
  } else if (p->proto == IPPROTO_TCP) {
    struct tcphdr* tcp = data + L4_OFF;
    if ((void*)(tcp + 1) > end) return -1;
    p->csum_off = L4_OFF + __builtin_offsetof(struct tcphdr, check);
    // skb->len, not tot_len: a large loopback segment (BIG TCP) carries a tot_len of 0.
    const __u32 headers = ETH_HLEN + sizeof(struct iphdr) + tcp->doff * 4;
    p->bytes = skb->len > headers ? skb->len - headers : 0;
    p->syn = tcp->syn && !tcp->ack;
  } else {
    return -1;
  }
  __u16* ports = data + L4_OFF;
  if ((void*)(ports + 2) > end) return -1;
  p->saddr = ip->saddr;
  p->daddr = ip->daddr;
  p->sport = ports[0];
  p->dport = ports[1];
  p->tos = ip->tos;
  p->tot_len = bpf_ntohs(ip->tot_len);
  return 0;
}

// A backend's packet to a client of a translated flow gets the VIP as its source: 1 if it
// was one, 0 if not, -1 if it could not be rewritten.
static __always_inline int answer(struct __sk_buff* skb, const struct packet* p, __u32* vip) {
  struct nat_reply_key rk = {.backend_addr = p->saddr,
                             .client_addr = p->daddr,
                             .backend_port = p->sport,
                             .client_port = p->dport,
                             .proto = p->proto};
  struct reply* r = bpf_map_lookup_elem(&replies, &rk);
  if (!r) return 0;
  struct reply rv = *r;
  if (rewrite(skb, p->csum_off, SRC_ADDR, p->saddr, rv.vip.addr, SRC_PORT, p->sport,
              rv.vip.port))
    return -1;
  struct nat_counters* c = counter(rv.service, rv.backend);
  if (c) {
    c->to_client++;
    c->to_client_bytes += p->bytes;
  }
  *vip = rv.vip.addr;
  return 1;
}

SEC("tc")
int nat(struct __sk_buff* skb) {
  struct packet p;
  if (parse(skb, &p)) return NEXT;
  const __u8 proto = p.proto;
  const __u32 csum_off = p.csum_off, saddr = p.saddr, daddr = p.daddr;
  const __u16 sport = p.sport, dport = p.dport;
  const int syn = p.syn;

  struct nat_endpoint to = {.addr = daddr, .port = dport, .proto = proto};
  __u32* service = bpf_map_lookup_elem(&vips, &to);
  if (service) {
    __u32 si = *service;
    struct nat_service* s = bpf_map_lookup_elem(&services, &si);
    if (!s) return NEXT;
    struct nat_flow_key fk = {.client_addr = saddr,
                              .vip_addr = daddr,
                              .client_port = sport,
                              .vip_port = dport,
                              .proto = proto};
    struct flow* f = bpf_map_lookup_elem(&flows, &fk);
    __u32 b;
    int fresh = 0;
    int kept = f && f->service == si && f->backend < NAT_BACKENDS;
    // UDP: a flow stays while its backend is healthy, draining or not. TCP: a connection
    // stays to its end; a new SYN (the client port used again) starts a new flow.
    if (kept && proto == IPPROTO_UDP) kept = (s->healthy >> f->backend) & 1;
    if (kept && syn) kept = (s->healthy >> f->backend) & 1;
    if (kept) {
      b = f->backend;
    } else {
      // A TCP segment of a connection this program did not start is the socket's to reset.
      if (proto == IPPROTO_TCP && !syn) return NEXT;
      if (!s->slots_used) return NEXT;
      b = pick(s, si, saddr, s->hash_port ? sport : 0);
      if (b >= NAT_BACKENDS) return NEXT;
      struct flow nf = {.service = si, .backend = b};
      bpf_map_update_elem(&flows, &fk, &nf, BPF_ANY);
      fresh = 1;
    }
    struct nat_endpoint be = s->backends[b];
    // The two tables forget their oldest entries each on its own, so a flow kept may have
    // lost its way back: put it in again, or the backend's answers would go out untranslated.
    struct nat_reply_key rk = {.backend_addr = be.addr,
                               .client_addr = saddr,
                               .backend_port = be.port,
                               .client_port = sport,
                               .proto = proto};
    if (fresh || !bpf_map_lookup_elem(&replies, &rk)) {
      struct reply r = {.vip = to, .service = si, .backend = b};
      bpf_map_update_elem(&replies, &rk, &r, BPF_ANY);
    }
    if (rewrite(skb, csum_off, DST_ADDR, daddr, be.addr, DST_PORT, dport, be.port))
      return TC_ACT_SHOT;
    struct nat_counters* c = counter(si, b);
    if (c) {
      c->to_backend++;
      c->to_backend_bytes += p.bytes;
      c->flows += proto == IPPROTO_TCP ? syn : fresh;
    }
    return NEXT;
  }

  __u32 vip;
  int answered = answer(skb, &p, &vip);
  if (answered < 0) return TC_ACT_SHOT;
  if (!answered) return NEXT;
  return send_on(skb, p.tos, p.tot_len, proto, vip, daddr);
}

// On the way out: the answers of a backend on this host itself to a client elsewhere, which
// never come in on any interface. Packets to a VIP are the ingress program's.
SEC("tc")
int nat_out(struct __sk_buff* skb) {
  struct packet p;
  __u32 vip;
  if (parse(skb, &p)) return NEXT;
  return answer(skb, &p, &vip) < 0 ? TC_ACT_SHOT : NEXT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
