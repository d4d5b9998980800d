#pragma once
// The kernel side of the proxy's in-kernel TCP path: the stream verdict program
// (bpf/forward.bpf.c), its maps, the per-direction counters it shares with the forwarding
// threads through mmap, and one notification ring per thread. One per engine; the threads
// share it, each touching only the pairs it acquired.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "proxy/bpf/forward_shared.h"

struct forward_bpf;

namespace anycastd::proxy {

class Sockmap {
 public:
  // `pairs`: connections on the kernel path at once; `rings`: forwarding threads. Fails with
  // the reason when the kernel, or the process's privileges, do not allow it.
  static Result<std::unique_ptr<Sockmap>, std::string> load(uint32_t pairs, uint32_t rings);
  ~Sockmap();
  Sockmap(const Sockmap&) = delete;
  Sockmap& operator=(const Sockmap&) = delete;

  // A free pair, or nothing when every one is in use (the connection stays in user space).
  std::optional<uint32_t> acquire();
  enum class Inserted {
    both,     // the kernel forwards from here
    neither,  // nothing changed (a socket already saw its peer's FIN, which a sockmap
              // refuses); the pair is free again
    one,      // the client went in and the backend did not: reset the connection, then
              // release() the pair
  };
  // Puts both sockets of `pair` in the sockmap for thread `ring`. Both directions start in
  // PASS, so bytes that arrive while the second socket goes in are kept for the thread, then
  // ask to RESUME with a budget of `window` bytes. Bytes that were already waiting in a socket
  // before it went in are pushed through the verdict at the end.
  Inserted insert(uint32_t pair, int client, int backend, uint32_t ring, uint64_t window);
  // After both sockets are closed (which takes them out of the sockmap): forgets their
  // cookies and frees the pair.
  void release(uint32_t pair);

  forward_direction& direction(uint32_t index) { return directions_[index]; }
  // The connection now on `pair`, as its ring records name it (set by insert()).
  uint32_t generation(uint32_t pair) const { return directions_[2 * pair].generation; }
  int ring_fd(uint32_t ring) const { return rings_.at(ring); }
  uint32_t pairs() const { return pairs_; }

 private:
  Sockmap() = default;
  forward_bpf* skel_ = nullptr;
  forward_direction* directions_ = nullptr;
  size_t mapped_ = 0;
  uint32_t pairs_ = 0;
  int slots_fd_ = -1, sockets_fd_ = -1;
  std::vector<int> rings_;
  std::vector<uint64_t> cookies_;  // by index, for release()
  std::mutex mu_;
  std::vector<uint32_t> free_;  // under mu_
};

}  // namespace anycastd::proxy
