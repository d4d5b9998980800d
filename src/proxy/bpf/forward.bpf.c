// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// The proxy's in-kernel TCP path: once a connection's client and backend sockets are both in
// `sockets` (a sockmap, the client at an even index, its backend at the next), this stream
// verdict moves every byte that arrives on one socket to the other one's send queue, so the
// forwarding threads are not woken per message.
//
// The kernel gives an egress redirect no backpressure: bytes that the far socket cannot send
// yet wait in its queue without limit. So each direction carries a byte budget (`limit`, set
// by user space from what the far socket has really taken); past it, bytes are passed to the
// near socket's own receive queue instead (SK_PASS), where they count against its receive
// buffer and TCP's window stops the sender, and the forwarding thread moves them itself. It
// hands the direction back (RESUME) once it has written everything passed to it, so the
// bytes keep their order.
//
// The verdict rings the owning thread (a record in its ring naming the direction) half way
// through a budget, so that it sets a new one while bytes still flow, and when it passes
// bytes to a thread that had caught up, which then listens for more on that socket. The
// thread does not listen otherwise: the kernel wakes a socket's readers on every arrival,
// redirected or not.
//
// TCP may queue a retransmitted segment that starts before what it has already received (a
// partial repeat; its readers skip the old part by sequence number), and the kernel hands the
// whole segment to this verdict. Forwarded as it is, the old part would reach the far side
// twice (seen on 6.18 under reordering on loopback). So the verdict follows each direction's
// TCP sequence: a segment that is all repeat is dropped, and one that is partly repeat is
// passed to the thread with a record of which bytes to leave out.
//
// Dual-licensed BSD-2-Clause or GPL-2.0 (as BPF programs commonly are): reading the
// segment's sequence number takes bpf_cast_to_kern_ctx, which the kernel offers only to
// GPL-compatible programs. The rest of anycastd is Apache-2.0.
// libbpf's helper headers need linux/bpf.h's types first.
// clang-format off
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include "forward_shared.h"

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 2);  // set at load from the services' max-connections
  __type(key, __u32);
  __type(value, __u64);
} sockets SEC(".maps");

// Socket cookie to its index in `sockets` and `directions`.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 2);
  __type(key, __u64);
  __type(value, __u32);
} slots SEC(".maps");

// Shared with user space through mmap: no system call to read counters or set budgets.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct forward_direction);
} directions SEC(".maps");

// One ring per forwarding thread, of struct forward_record.
struct ring {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);  // sockmap.cpp makes them, of this size
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 1);
  __type(key, __u32);
  __array(values, struct ring);
} rings SEC(".maps");

// The kernel's own skb and TCP's control block in it, as far as this program reads them;
// libbpf matches the fields against the running kernel's BTF at load.
struct sk_buff___fwd {
  char cb[48];
} __attribute__((preserve_access_index));
extern void* bpf_cast_to_kern_ctx(void* obj) __ksym;

static __always_inline void ring(struct forward_direction* d, struct forward_record* r) {
  __u32 ring_index = d->ring;
  void* rb = bpf_map_lookup_elem(&rings, &ring_index);
  if (!rb || bpf_ringbuf_output(rb, r, sizeof *r, 0) != 0) {
    if (r->kind == FORWARD_REPEAT) __sync_fetch_and_or(&d->flags, FORWARD_LOST);
  }
}

SEC("sk_skb/stream_verdict")
int forward(struct __sk_buff* skb) {
  // A bare FIN arrives as an empty skb. Redirected, the far socket's sender takes its zero
  // bytes sent for a broken pipe and fails that socket with EPIPE; TCP has already recorded
  // the FIN (user space sees it as EPOLLRDHUP), so the empty skb carries nothing to keep.
  if (skb->len == 0) return SK_DROP;
  __u64 cookie = bpf_get_socket_cookie(skb);
  __u32* slot = bpf_map_lookup_elem(&slots, &cookie);
  if (!slot) return SK_PASS;  // not ours yet: user space reads it
  __u32 index = *slot;
  struct forward_direction* d = bpf_map_lookup_elem(&directions, &index);
  if (!d) return SK_PASS;

  // TCP_SKB_CB(skb)->seq: the first 4 bytes of the control block.
  struct sk_buff___fwd* k = bpf_cast_to_kern_ctx(skb);
  __u32 seq = 0;
  if (bpf_core_read(&seq, sizeof seq, &k->cb[0]) != 0) return SK_DROP;
  __u64 len = skb->len;
  __u64 repeat = 0;
  if (d->flags & FORWARD_SEQ_KNOWN) {
    __s32 behind = (__s32)(d->next_seq - seq);
    if (behind > 0 && (__u64)behind >= len) return SK_DROP;  // all of it came before
    if (behind > 0) repeat = (__u64)behind;
  } else {
    __sync_fetch_and_or(&d->flags, FORWARD_SEQ_KNOWN);
  }
  d->next_seq = seq + (__u32)len;
  __u64 fresh = len - repeat;
  __u64 seen = __sync_fetch_and_add(&d->seen, fresh) + fresh;

  __u32 mode = d->mode;
  // Everything passed earlier has been written on by user space: redirecting now cannot
  // overtake it.
  if (mode == FORWARD_RESUME && d->written == d->passed &&
      __sync_val_compare_and_swap(&d->mode, FORWARD_RESUME, FORWARD_REDIRECT) == FORWARD_RESUME)
    mode = FORWARD_REDIRECT;
  if (mode == FORWARD_REDIRECT && (seen > d->limit || repeat)) {
    d->mode = FORWARD_PASS;
    mode = FORWARD_PASS;
  }
  struct forward_record r = {.index = index, .kind = FORWARD_NOTICE, .generation = d->generation};
  int notice = seen >= d->notify_at && seen - fresh < d->notify_at;
  if (mode == FORWARD_REDIRECT) {
    __sync_fetch_and_add(&d->redirected, len);
    if (notice) ring(d, &r);
    return bpf_sk_redirect_map(skb, &sockets, index ^ 1, 0);
  }
  // The thread adds to `written` and then reads `passed`; this adds to `passed` and then
  // reads `written`. So either the thread sees these bytes or this sees it caught up.
  __u64 before = __sync_fetch_and_add(&d->passed, len);
  if (repeat) {
    struct forward_record skip = {.index = index,
                                  .kind = FORWARD_REPEAT,
                                  .at = before,
                                  .count = repeat,
                                  .generation = d->generation};
    ring(d, &skip);  // before the bytes reach the socket's queue: the thread reads it first
  }
  if (before == __sync_fetch_and_add(&d->written, 0)) notice = 1;
  if (notice) ring(d, &r);
  return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
