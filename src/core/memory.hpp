#pragma once
// Giving freed heap back to the system. A full table's transient data (decoded UPDATEs,
// exported attribute sets, encoded messages queued for a peer) is freed in small pieces
// between long-lived ones, and the allocator keeps those pages resident until asked.

namespace anycastd {

// Returns the free pages of every heap arena to the kernel. Costs a walk of the free
// lists (milliseconds for a full table's heap), so call it after bulk work, not per
// message.
void release_free_memory();

}  // namespace anycastd
