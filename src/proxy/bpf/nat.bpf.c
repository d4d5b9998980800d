// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// The proxy's address-translation path (`forwarding: nat`): tc programs (ingress, egress) that
// forwards a service's TCP segments or UDP datagrams by rewriting their addresses, as LVS-NAT
// does, so that none crosses into user space.
//
// A packet to a VIP (a `vips` key) is given its backend's address and port and goes on up the
// stack: to the backend's socket if it is local, or forwarded by the kernel's routing if it is
// not. The backend is chosen by the service's slot table when a flow starts (a UDP datagram
// from a new client socket, a TCP SYN): by a hash of the client's address (and port, with
// `hash: 5-tuple`) into Maglev's table with maglev, the slots taken in turn with round robin.
//
// Connection tracking, as IPVS does it: a flow's entry starts in `flows`, a cache of opening
// flows that a flood of new ones may churn, and moves to `conns` once both sides have spoken
// (the backend answered and the client sent again, or a TCP client sent data). Nothing
// evicts an entry from `conns`: the proxy forgets it after its state's timeout
// (kernel_nat.cpp's sweep), and a full table only keeps new flows in the cache. So no flood
// of SYNs or of short UDP flows can push out an established connection.
//
// A TCP segment that finds no entry (its NVA restarted without its tables, or the connection
// came from another NVA of the region) is, for a maglev service, sent where the table sends
// its flow, as Katran and IPVS's sloppy_tcp do: NVAs with the same backends agree, so the
// connection goes on. For round robin it goes up the stack, which resets it.
//
// The backend's packets to a client get the VIP's address and port as their source, so the
// client sees the VIP answer, and are sent on towards the client from here (see send_on); a
// backend on this host itself answers through no ingress, so its answers are translated on
// their way out (nat_out). The VIP comes from the backend's address and port alone
// (`origins`): an answer to a flow this NVA never saw (Azure keeps no flow symmetry across the
// NVAs of a region) is translated too, when it is on its way elsewhere; one to this host
// itself (a health check) is left alone unless a flow of this host's own is known.
//
// A UDP flow moves to another backend when its own is no longer healthy; a TCP connection
// keeps its backend to the end (elsewhere it would only meet a reset). A flow that would start
// while the service has no healthy backend, or drains, is left to the proxy's own socket,
// which handles it as the user-space path does. IPv6, IPv4 with options and fragments are
// left alone too.
//
// Each program comes twice: for interfaces with an Ethernet header, and for those without a
// link-layer header (tun, WireGuard, ipip: the packet starts at its IP header).
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

// Opening flows: a cache, the oldest forgotten first.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);  // set at load from the services' max-connections
  __type(key, struct nat_flow_key);
  __type(value, struct nat_conn);
} flows SEC(".maps");

// Established flows: only the proxy's sweep removes them.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);  // set at load
  __type(key, struct nat_flow_key);
  __type(value, struct nat_conn);
} conns SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64 * NAT_BACKENDS);
  __type(key, struct nat_endpoint);  // a backend's address, port and protocol
  __type(value, struct nat_origin);
} origins SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 64 * NAT_BACKENDS);
  __type(key, __u32);
  __type(value, struct nat_counters);
} counters SEC(".maps");

// Each CPU's place in each service's slots, for round robin: per CPU, so that no two CPUs
// contend for one counter; each CPU's flows alternate, so the whole stays within a flow per
// CPU of the weights.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} turns SEC(".maps");

// tcx runs an interface's programs in turn until one returns anything but "next" (-1, which
// is TC_ACT_UNSPEC): TC_ACT_OK would keep every later program, another anycastd's included,
// from seeing the packet. So this one says "next" for all it lets through, translated or not.
#define NEXT TC_ACT_UNSPEC
#define AF_INET 2

// Offsets from the start of the packet, after `l2` bytes of link-layer header (a constant in
// each program).
#define IP_OFF(l2) (l2)
#define L4_OFF(l2) ((l2) + sizeof(struct iphdr))
#define IP_CSUM(l2) (IP_OFF(l2) + __builtin_offsetof(struct iphdr, check))
#define SRC_ADDR(l2) (IP_OFF(l2) + __builtin_offsetof(struct iphdr, saddr))
#define DST_ADDR(l2) (IP_OFF(l2) + __builtin_offsetof(struct iphdr, daddr))
#define SRC_PORT(l2) L4_OFF(l2)  // the same place in TCP and UDP headers
#define DST_PORT(l2) (L4_OFF(l2) + 2)
#define TTL_PROTO(l2) (IP_OFF(l2) + __builtin_offsetof(struct iphdr, ttl))  // ttl, then protocol

static __always_inline struct nat_counters* counter(__u32 service, __u32 backend) {
  __u32 k = service * NAT_BACKENDS + backend;
  return bpf_map_lookup_elem(&counters, &k);
}

// Rewrites one address and one port (source or destination) with their checksums. A UDP
// checksum of 0 means none was sent (csum_off 0); BPF_F_MARK_MANGLED_0 keeps a computed one
// from becoming 0.
static __always_inline int rewrite(struct __sk_buff* skb, __u32 l2, __u32 csum_off, __u32 addr_off,
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
  if (bpf_l3_csum_replace(skb, IP_CSUM(l2), old_addr, new_addr, sizeof(new_addr))) return -1;
  if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0)) return -1;
  if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0)) return -1;
  return 0;
}

// Where the stack would forward a packet: 1 with `fib` filled in, 0 when it is for this host
// or cannot be routed from here (forwarding off on the interface it came in on, too big).
static __always_inline int route(struct __sk_buff* skb, struct bpf_fib_lookup* fib, __u8 tos,
                                 __u16 tot_len, __u8 proto, __u32 saddr, __u32 daddr) {
  __builtin_memset(fib, 0, sizeof(*fib));
  fib->family = AF_INET;
  fib->tos = tos;
  fib->l4_protocol = proto;
  fib->tot_len = tot_len;
  fib->ifindex = skb->ingress_ifindex;
  fib->ipv4_src = saddr;
  fib->ipv4_dst = daddr;
  long found = bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
  return found == BPF_FIB_LKUP_RET_SUCCESS || found == BPF_FIB_LKUP_RET_NO_NEIGH;
}

// An answer now has the VIP, an address of this host's own, as its source. The stack would
// take it for a spoofed packet on any interface but loopback (a martian source) and drop it,
// so an answer to a client elsewhere is sent out from here, its TTL one less, as the stack
// forwards.
static __always_inline int send_on(struct __sk_buff* skb, __u32 l2,
                                   const struct bpf_fib_lookup* fib) {
  __u16 old_word, new_word;
  if (bpf_skb_load_bytes(skb, TTL_PROTO(l2), &old_word, sizeof(old_word))) return NEXT;
  __u8* ttl = (__u8*)&old_word;
  if (*ttl <= 1) return NEXT;  // the stack answers with ICMP time exceeded
  new_word = old_word;
  ((__u8*)&new_word)[0] = *ttl - 1;
  if (bpf_l3_csum_replace(skb, IP_CSUM(l2), old_word, new_word, sizeof(new_word)))
    return TC_ACT_SHOT;
  if (bpf_skb_store_bytes(skb, TTL_PROTO(l2), &new_word, sizeof(new_word), 0)) return TC_ACT_SHOT;
  // The kernel finds the next hop and its link-layer address itself, as for a routed packet.
  return bpf_redirect_neigh(fib->ifindex, 0, 0, 0);
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
  __u8 proto, tos, syn, fin, rst;
};

// 0 for an IPv4 TCP segment or UDP datagram without options that is not a later fragment.
static __always_inline int parse(struct __sk_buff* skb, __u32 l2, struct packet* p) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return -1;
  void* data = (void*)(long)skb->data;
  void* end = (void*)(long)skb->data_end;
  struct iphdr* ip = data + IP_OFF(l2);
  if ((void*)(ip + 1) > end) return -1;
  if (ip->version != 4) return -1;
  // Options move the transport header; fragments after the first have none.
  if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff))) return -1;
  p->proto = ip->protocol;
  p->syn = p->fin = p->rst = 0;
  if (p->proto == IPPROTO_UDP) {
    struct udphdr* udp = data + L4_OFF(l2);
    if ((void*)(udp + 1) > end) return -1;
    if (bpf_ntohs(udp->len) < sizeof(struct udphdr)) return -1;  // the stack drops it
    p->csum_off = udp->check ? L4_OFF(l2) + __builtin_offsetof(struct udphdr, check) : 0;
    p->bytes = bpf_ntohs(udp->len) - sizeof(struct udphdr);
  } else if (p->proto == IPPROTO_TCP) {
    struct tcphdr* tcp = data + L4_OFF(l2);
    if ((void*)(tcp + 1) > end) return -1;
    p->csum_off = L4_OFF(l2) + __builtin_offsetof(struct tcphdr, check);
    // skb->len, not tot_len: a large loopback segment (BIG TCP) carries a tot_len of 0.
    const __u32 headers = l2 + sizeof(struct iphdr) + tcp->doff * 4;
    p->bytes = skb->len > headers ? skb->len - headers : 0;
    p->syn = tcp->syn && !tcp->ack;
    p->fin = tcp->fin;
    p->rst = tcp->rst;
  } else {
    return -1;
  }
  __u16* ports = data + L4_OFF(l2);
  if ((void*)(ports + 2) > end) return -1;
  p->saddr = ip->saddr;
  p->daddr = ip->daddr;
  p->sport = ports[0];
  p->dport = ports[1];
  p->tos = ip->tos;
  p->tot_len = bpf_ntohs(ip->tot_len);
  return 0;
}

// The entry of a flow, established or opening; `established` says which table holds it.
static __always_inline struct nat_conn* find(const struct nat_flow_key* k, int* established) {
  struct nat_conn* c = bpf_map_lookup_elem(&conns, k);
  *established = c != 0;
  return c ? c : bpf_map_lookup_elem(&flows, k);
}

// What a packet of a flow tells of its state, from either side.
static __always_inline void track(struct nat_conn* c, const struct packet* p, __u64 now) {
  if (p->rst)
    c->state = NAT_CLOSED;
  else if (p->fin && c->state != NAT_CLOSED)
    c->state = NAT_CLOSING;
  // A write per packet would bounce the entry's cache line between CPUs for nothing: the
  // sweep's timeouts are in seconds.
  if (now - c->seen > 100000000) c->seen = now;
}

static __always_inline int same(const struct nat_endpoint* a, const struct nat_endpoint* b) {
  return a->addr == b->addr && a->port == b->port;
}

// A client's packet to a VIP: to its backend, a new flow's chosen now.
static __always_inline int to_backend(struct __sk_buff* skb, __u32 l2, const struct packet* p,
                                      __u32 si) {
  struct nat_service* s = bpf_map_lookup_elem(&services, &si);
  if (!s) return NEXT;
  const __u64 now = bpf_ktime_get_ns();
  const int tcp = p->proto == IPPROTO_TCP;
  struct nat_flow_key fk = {.client_addr = p->saddr,
                            .vip_addr = p->daddr,
                            .client_port = p->sport,
                            .vip_port = p->dport,
                            .proto = p->proto};
  int established;
  struct nat_conn* c = find(&fk, &established);
  int kept = c && c->service == si;
  // Is the backend the entry names still this service's, and healthy?
  int listed = 0, healthy = 0;
  __u32 b = 0;
  if (kept) {
    b = c->index < NAT_BACKENDS ? c->index : 0;
    listed = same(&s->backends[b], &c->backend);
    healthy = listed && ((s->healthy >> b) & 1);
  }
  // UDP: a flow stays while its backend is healthy, draining or not. TCP: a connection stays
  // to its end; a SYN for an entry that is not opening is a new connection on an old port.
  if (kept && !tcp) kept = healthy;
  if (kept && p->syn) kept = healthy && c->state == NAT_OPENING;
  struct nat_endpoint be;
  if (kept) {
    be = c->backend;
    track(c, p, now);
    // Both sides have spoken: established, out of the churn of new flows. A TCP client
    // that sends data has had the backend's SYN-ACK, whichever NVA brought it.
    if (!established && (c->answered || (tcp && p->bytes)) && !p->syn &&
        c->state < NAT_ESTABLISHED) {
      struct nat_conn e = *c;
      e.state = NAT_ESTABLISHED;
      if (bpf_map_update_elem(&conns, &fk, &e, BPF_NOEXIST) == 0) {
        bpf_map_delete_elem(&flows, &fk);
        struct nat_counters* k = counter(si, b);
        if (k) k->promoted++;
      } else {
        c->state = NAT_ESTABLISHED;  // stays in the cache; counted once
        struct nat_counters* k = counter(si, b);
        if (k) k->full++;
      }
    }
    if (!listed) b = NAT_BACKENDS;  // counted nowhere: the backend left the service's table
  } else {
    if (c && established) bpf_map_delete_elem(&conns, &fk);
    int taken = 0;
    if (tcp && !p->syn) {
      // A connection this NVA has no entry for: the ring's choice, if the service has one.
      if (s->round_robin || !s->slots_used) return NEXT;
      taken = 1;
    }
    if (!s->slots_used) return NEXT;
    b = pick(s, si, p->saddr, s->hash_port ? p->sport : 0);
    if (b >= NAT_BACKENDS) return NEXT;
    be = s->backends[b];
    if (!p->rst) {
      struct nat_conn nc = {.backend = be,
                            .service = si,
                            .index = b,
                            .seen = now,
                            .state = taken ? NAT_TAKEN : NAT_OPENING};
      bpf_map_update_elem(&flows, &fk, &nc, BPF_ANY);
    }
    struct nat_counters* k = counter(si, b);
    if (k) {
      if (taken)
        k->takeovers++;
      else
        k->flows++;
      // A new entry, not one written over: what the cache forgets is counted from these.
      if (!p->rst && (!c || established)) k->cached++;
    }
  }
  if (rewrite(skb, l2, p->csum_off, DST_ADDR(l2), p->daddr, be.addr, DST_PORT(l2), p->dport,
              be.port))
    return TC_ACT_SHOT;
  struct nat_counters* k = b < NAT_BACKENDS ? counter(si, b) : 0;
  if (k) {
    k->to_backend++;
    k->to_backend_bytes += p->bytes;
  }
  return NEXT;
}

// A backend's packet to a client gets its VIP as the source: 1 if it was one (and `fib`
// filled in when `routed`), 0 if not, -1 if it could not be rewritten. Without a flow of this
// host's own, only a packet on its way elsewhere is one (`stateless`).
static __always_inline int answer(struct __sk_buff* skb, __u32 l2, const struct packet* p,
                                  int stateless, struct bpf_fib_lookup* fib) {
  struct nat_endpoint from = {.addr = p->saddr, .port = p->sport, .proto = p->proto};
  struct nat_origin* o = bpf_map_lookup_elem(&origins, &from);
  if (!o) return 0;
  const struct nat_origin origin = *o;
  struct nat_flow_key fk = {.client_addr = p->daddr,
                            .vip_addr = origin.vip.addr,
                            .client_port = p->dport,
                            .vip_port = origin.vip.port,
                            .proto = p->proto};
  int established;
  struct nat_conn* c = find(&fk, &established);
  if (c && same(&c->backend, &from)) {
    track(c, p, bpf_ktime_get_ns());
    if (!p->rst && !c->answered) c->answered = 1;
    if (fib && !route(skb, fib, p->tos, p->tot_len, p->proto, origin.vip.addr, p->daddr))
      fib->ifindex = 0;  // for this host: up the stack
  } else {
    if (!stateless || !fib) return 0;
    if (!route(skb, fib, p->tos, p->tot_len, p->proto, origin.vip.addr, p->daddr)) return 0;
  }
  if (rewrite(skb, l2, p->csum_off, SRC_ADDR(l2), p->saddr, origin.vip.addr, SRC_PORT(l2), p->sport,
              origin.vip.port))
    return -1;
  struct nat_counters* k = counter(origin.service, origin.index);
  if (k) {
    k->to_client++;
    k->to_client_bytes += p->bytes;
  }
  return 1;
}

static __always_inline int nat_in(struct __sk_buff* skb, __u32 l2) {
  struct packet p;
  if (parse(skb, l2, &p)) return NEXT;
  struct nat_endpoint to = {.addr = p.daddr, .port = p.dport, .proto = p.proto};
  __u32* service = bpf_map_lookup_elem(&vips, &to);
  if (service) return to_backend(skb, l2, &p, *service);
  struct bpf_fib_lookup fib;
  int answered = answer(skb, l2, &p, 1, &fib);
  if (answered < 0) return TC_ACT_SHOT;
  if (!answered || !fib.ifindex) return NEXT;
  return send_on(skb, l2, &fib);
}

// On the way out: the answers of a backend on this host itself to a client elsewhere, which
// never come in on any interface. Packets to a VIP are the ingress program's.
static __always_inline int nat_egress(struct __sk_buff* skb, __u32 l2) {
  struct packet p;
  if (parse(skb, l2, &p)) return NEXT;
  return answer(skb, l2, &p, 0, 0) < 0 ? TC_ACT_SHOT : NEXT;
}

SEC("tc")
int nat(struct __sk_buff* skb) {
  return nat_in(skb, ETH_HLEN);
}

SEC("tc")
int nat_out(struct __sk_buff* skb) {
  return nat_egress(skb, ETH_HLEN);
}

SEC("tc")
int nat_l3(struct __sk_buff* skb) {
  return nat_in(skb, 0);
}

SEC("tc")
int nat_out_l3(struct __sk_buff* skb) {
  return nat_egress(skb, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
