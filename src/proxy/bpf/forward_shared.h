// SPDX-License-Identifier: Apache-2.0
// One direction of a connection on the in-kernel path, as the verdict program and the
// forwarding threads share it (an mmap of the `directions` array). Index 2k is the client's
// side (bytes toward the backend), 2k+1 the backend's (bytes toward the client).
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
  FORWARD_U64 seen;        // bytes the verdict took from this socket (program)
  FORWARD_U64 redirected;  // of those, sent on to the other socket (program)
  FORWARD_U64 passed;      // of those, left for the forwarding thread (program)
  FORWARD_U64 written;     // passed bytes the thread has written on (thread)
  FORWARD_U64 limit;       // redirect only while `seen` stays within this (thread)
  FORWARD_U64 notify_at;   // ring the thread when `seen` reaches this (thread)
  FORWARD_U32 mode;        // enum forward_mode (both; see forward.bpf.c)
  FORWARD_U32 ring;        // the owning thread's ring (thread)
  FORWARD_U64 spare;
};
