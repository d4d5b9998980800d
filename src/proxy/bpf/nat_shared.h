// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// What the address-translation program (nat.bpf.c) and the proxy share: the keys and values
// of its maps. Addresses and ports are in network byte order, as in the packets.
#pragma once
#ifdef __cplusplus
#include <cstdint>
#define NAT_U64 std::uint64_t
#define NAT_U32 std::uint32_t
#define NAT_U16 std::uint16_t
#define NAT_U8 std::uint8_t
#else
#define NAT_U64 __u64
#define NAT_U32 __u32
#define NAT_U16 __u16
#define NAT_U8 __u8
#endif

// A service's balancing table, slot -> backend: Maglev's lookup table with maglev (prime,
// and more than 100 slots per backend, as the paper asks), else weighted and interleaved.
#define NAT_SLOTS 16381
#define NAT_BACKENDS 64  // backends per service on this path (kNatBackends)

struct nat_endpoint {
  NAT_U32 addr;
  NAT_U16 port;
  NAT_U8 proto;  // IPPROTO_TCP or IPPROTO_UDP (a VIP's key; 0 for a backend)
  NAT_U8 pad;
};

// A flow: one client socket talking to one VIP.
struct nat_flow_key {
  NAT_U32 client_addr, vip_addr;
  NAT_U16 client_port, vip_port;
  NAT_U8 proto, pad[3];
};

// The layout of the tables that outlive the process (nat_conn, nat_flow_key): pinned under a
// directory named after it, so that an anycastd with another layout never adopts them.
#define NAT_STATE_VERSION 1

// Where a flow stands, as IPVS keeps it. Opening entries live in the cache of new flows (an
// LRU that a flood may churn); an entry that has seen both sides is established and moves to
// the connection table, which nothing but its own timeout (or a FIN, a RST) empties.
enum nat_state {
  NAT_OPENING = 0,  // tcp: a SYN passed; udp: a first datagram
  NAT_TAKEN = 1,    // tcp: a segment of a connection this NVA had no entry for (takeover)
  NAT_ESTABLISHED = 2,
  NAT_CLOSING = 3,  // a FIN passed
  NAT_CLOSED = 4,   // a RST passed
};

// A flow's entry, in `conns` (established) or `flows` (opening). It names its backend by
// address, so that it stays right across a reload that moves the backends and a restart.
struct nat_conn {
  struct nat_endpoint backend;
  NAT_U32 service, index;  // for the counters; index is checked against the service's table
  NAT_U64 seen;            // bpf_ktime_get_ns() of the last packet either way (CLOCK_MONOTONIC)
  NAT_U8 state, answered, pad[6];
};

// Where a backend's answers come from: the VIP it serves (a backend's address and port serve
// one VIP and port; the configuration refuses more), so that any NVA of the region can
// translate an answer, its own flow or not.
struct nat_origin {
  struct nat_endpoint vip;
  NAT_U32 service, index;
};

struct nat_service {
  NAT_U32 slots_used;   // 0: no new flows (none healthy, or draining); the socket gets them
  NAT_U32 hash_port;    // hash the client's address and port, not its address alone
  NAT_U64 healthy;      // bit b: backend b takes new flows (and, for udp, keeps its old ones)
  NAT_U32 round_robin;  // new flows take the slots in turn (per CPU) instead of by hash
  NAT_U32 pad;
  struct nat_endpoint backends[NAT_BACKENDS];
  unsigned char slots[NAT_SLOTS];
};

// Per CPU, per (service, backend): counted by the program, summed by the proxy. Bytes are
// payload bytes, as recv and send count them.
struct nat_counters {
  NAT_U64 to_backend, to_backend_bytes, to_client, to_client_bytes;
  NAT_U64 flows;      // udp: flows started; tcp: connections opened (SYNs)
  NAT_U64 takeovers;  // tcp: segments of connections without an entry, sent by the ring
  NAT_U64 full;       // flows that could not become established: the connection table was full
  NAT_U64 cached;     // entries put in the cache of opening flows
  NAT_U64 promoted;   // ... and moved from it to the connection table
};
