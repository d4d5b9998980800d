// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// What the verdict program (forward.bpf.c) and the forwarding threads share: one direction
// of a connection on the in-kernel path (an mmap of the `directions` array; index 2k is the
// client's side, bytes toward the backend, 2k+1 the backend's, bytes toward the client), and
// the records of a thread's ring.
#pragma once
#ifdef __cplusplus
#include <cstdint>
#define FORWARD_U64 std::uint64_t
#define FORWARD_U32 std::uint32_t
#else
#define FORWARD_U64 __u64
#define FORWARD_U32 __u32
#endif

enum forward_mode {
  FORWARD_REDIRECT = 0,  // the verdict moves bytes to the other socket
  FORWARD_PASS = 1,      // bytes stay on this socket for the forwarding thread
  FORWARD_RESUME = 2,    // the thread asks to go back to REDIRECT once it is caught up
};

struct forward_direction {
  FORWARD_U64 seen;        // new bytes the verdict took from this socket (program)
  FORWARD_U64 redirected;  // of those, sent on to the other socket (program)
  FORWARD_U64 passed;      // bytes left for the thread, repeats included (program)
  FORWARD_U64 written;     // passed bytes the thread has written on, or dropped (thread)
  FORWARD_U64 limit;       // redirect only while `seen` stays within this (thread)
  FORWARD_U64 notify_at;   // ring the thread when `seen` reaches this (thread)
  FORWARD_U32 mode;        // enum forward_mode (both; see forward.bpf.c)
  FORWARD_U32 ring;        // the owning thread's ring (thread)
  FORWARD_U32 next_seq;    // TCP sequence of the next new byte (program)
  FORWARD_U32 flags;       // FORWARD_SEQ_KNOWN, FORWARD_LOST (program)
  // Which connection on this pair, counted up each time the pair is taken (thread). Records
  // carry it: pairs are reused, and a record still in the ring when its connection left
  // must not act on the pair's next one.
  FORWARD_U32 generation;
  FORWARD_U32 unused;
};

#define FORWARD_SEQ_KNOWN 1u  // next_seq is set
#define FORWARD_LOST 2u       // a repeat record did not fit in the ring: reset the connection

enum forward_record_kind {
  FORWARD_NOTICE = 0,  // look at the direction: budget half spent, or bytes passed
  FORWARD_REPEAT = 1,  // passed bytes [at, at + count) repeat bytes already forwarded
};

struct forward_record {
  FORWARD_U32 index;       // the direction
  FORWARD_U32 kind;        // enum forward_record_kind
  FORWARD_U64 at;          // REPEAT: position in the direction's passed bytes
  FORWARD_U64 count;       // REPEAT: how many
  FORWARD_U32 generation;  // the direction's when the record was made
  FORWARD_U32 unused;
};
