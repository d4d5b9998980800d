// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// What the UDP address-translation program (udp_nat.bpf.c) and the proxy share: the keys and
// values of its maps. Addresses and ports are in network byte order, as in the packets.
#pragma once
#ifdef __cplusplus
#include <cstdint>
#define NAT_U64 std::uint64_t
#define NAT_U32 std::uint32_t
#define NAT_U16 std::uint16_t
#else
#define NAT_U64 __u64
#define NAT_U32 __u32
#define NAT_U16 __u16
#endif

#define NAT_SLOTS 256    // a service's balancing table: slot -> backend, by weight
#define NAT_BACKENDS 64  // backends per service on the kernel path (kUdpKernelBackends)

struct nat_endpoint {
  NAT_U32 addr;
  NAT_U16 port;
  NAT_U16 pad;
};

// A flow: one client socket talking to one VIP.
struct nat_flow_key {
  NAT_U32 client_addr, vip_addr;
  NAT_U16 client_port, vip_port;
};

// What a backend's answer is recognised by after translation.
struct nat_reply_key {
  NAT_U32 backend_addr, client_addr;
  NAT_U16 backend_port, client_port;
};

struct nat_service {
  NAT_U32 slots_used;  // 0: no new flows (none healthy, or draining); the socket gets them
  NAT_U32 hash_port;   // balance by the client's address and port, not its address alone
  NAT_U64 healthy;     // bit b: backend b takes new flows and keeps its old ones
  struct nat_endpoint backends[NAT_BACKENDS];
  unsigned char slots[NAT_SLOTS];
};

// Per CPU, per (service, backend): counted by the program, summed by the proxy.
struct nat_counters {
  NAT_U64 queries, query_bytes, answers, answer_bytes, flows;
};
