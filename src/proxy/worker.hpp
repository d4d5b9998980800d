#pragma once
// One forwarding thread: an edge-triggered epoll loop over its listeners, its TCP
// connections (client side and backend side) and its UDP flows. Nothing here blocks.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "proxy/bpf/forward_shared.h"
#include "proxy/engine.hpp"
#include "proxy/socket_ops.hpp"

struct ring_buffer;

namespace anycastd::proxy {

// A connection whose established bytes the sockmap forwards (worker_kernel.cpp). Direction
// 0 is the client's bytes toward the backend, 1 the backend's toward the client.
struct InKernel {
  uint32_t pair = 0;
  uint32_t generation = 0;  // the pair's, while this connection holds it
  uint64_t base[2]{};       // bytes each direction's far socket had been sent before
  uint64_t taken[2]{};      // and bytes its near socket had given the thread before
  uint64_t counted[2]{};    // the verdict's `seen`, as far as added to the byte counters
  bool caught_up[2]{};      // the far socket holds every redirected byte: passed ones may follow
  SteadyTime quiet_since[2]{};  // in PASS with nothing passed since then (at `quiet_at`)
  uint64_t quiet_at[2]{};
  uint64_t read[2]{};     // passed bytes read so far
  uint64_t dropped[2]{};  // of those, repeats left out (counted in `written`, not sent)
  // Ranges of passed bytes, [at, at + count), that repeat forwarded ones: left out.
  std::vector<std::pair<uint64_t, uint64_t>> repeats[2];
  bool waiting = false;  // in rechecks_
  std::chrono::microseconds backoff{};
  SteadyTime recheck{};
};

// What epoll reports for each side of a connection forwarded in user space.
constexpr uint32_t kUserEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
// A connection's buffer per direction: HAProxy's bufsize.
constexpr uint32_t kBufferSize = 16384;

class Worker {
 public:
  // `index`: this thread's ring in the engine's sockmap, if it has one.
  Worker(Engine& engine, uint32_t index);
  ~Worker();
  // TCP services share one listener (`shared`, by service; -1 for UDP) that every thread
  // polls with EPOLLEXCLUSIVE, so whichever thread is idle takes the next connection; UDP
  // services get a SO_REUSEPORT socket per thread, which keeps a client on one thread.
  Status<> open_listeners(const std::vector<int>& shared);
  void run();   // the thread's body, until stop()
  void stop();  // from any thread
  void wake();  // from any thread: published state changed

 private:
  enum class Kind : uint8_t { wake, tcp_listener, udp_listener, tcp_side, udp_flow, ring };
  struct Handle {
    Kind kind;
  };
  // Datagrams for one recvmmsg or sendmmsg: kSlots buffers in one arena, left uninitialised
  // so that only the pages a datagram touched cost memory.
  struct Datagrams {
    static constexpr unsigned kSlots = 32;
    static constexpr size_t kSize = 65535;
    // Room for one IP_PKTINFO or IPV6_PKTINFO control message.
    static constexpr size_t kControl = CMSG_SPACE(sizeof(in6_pktinfo));
    std::unique_ptr<char[]> arena{new char[kSlots * kSize]};
    mmsghdr msgs[kSlots]{};
    iovec iov[kSlots]{};
    SockAddr peer[kSlots]{};
    alignas(cmsghdr) char control[kSlots][kControl]{};
    uint32_t backend[kSlots]{};  // sendmmsg: whose bytes each reply counts to
    unsigned count = 0;
    char* slot(unsigned i) { return arena.get() + i * kSize; }
  };
  struct Listener : Handle {
    int fd = -1;
    uint32_t service = 0;
    bool owned = true;
    // UDP bound to a wildcard address: each reply says, in IP_PKTINFO, which of the host's
    // addresses the query came to, so that it leaves from that one.
    bool wildcard = false;
    std::unique_ptr<Datagrams> replies;  // UDP: answers waiting for one sendmmsg
  };
  struct Conn;
  struct Side : Handle {
    int fd = -1;
    Conn* conn = nullptr;
    bool readable = false, writable = false, hup = false;
    uint32_t events = 0;  // what epoll reports for it
  };
  // The bytes moving one way: through a user-space buffer, or a kernel pipe with splice.
  struct Direction {
    char* buf = nullptr;
    uint32_t head = 0, tail = 0;
    int pipe_r = -1, pipe_w = -1;
    uint32_t in_pipe = 0;
    bool eof = false, shut = false;
    uint64_t unreported = 0;  // bytes not yet added to the shared counters
    uint64_t forwarded = 0;   // bytes this thread wrote to the far socket (PROXY header too)
    uint64_t taken = 0;       // bytes this thread read from the near socket
    uint32_t pending() const { return pipe_r >= 0 ? in_pipe : tail - head; }
  };
  struct Conn {
    Side client, backend;
    Direction up, down;  // up: client to backend
    uint32_t service = 0, backend_index = 0, slot = 0, attempts = 0;
    bool connecting = false, dead = false;
    bool last_up = false;  // the last bytes read went toward the backend
    uint8_t turns = 0;     // times the reading direction changed, first read included
    SteadyTime deadline;   // connect timeout while connecting, then idle timeout
    SteadyTime opened;     // accepted
    Endpoint client_ep, local_ep;
    std::optional<InKernel> kernel;
  };
  struct Flow : Handle {
    int fd = -1;
    uint32_t service = 0, backend_index = 0, slot = 0;
    Listener* via = nullptr;
    SockAddr client;
    Endpoint client_ep;
    IpAddress local;  // the address the client sent to, on a wildcard listener
    SteadyTime deadline;
    SteadyTime opened;
    bool dead = false;
  };
  struct PerService {
    std::shared_ptr<const ServiceState> state;
    uint64_t version = 0;
    std::unique_ptr<Balancer> balancer;
  };

  void refresh(uint32_t service);
  std::optional<uint32_t> choose(uint32_t service, const FlowKey& k);
  void add(int fd, Handle* h, uint32_t events);
  void watch(Side& s, uint32_t events);  // changes what epoll reports for a side

  // TCP (worker_tcp.cpp)
  void accept_all(Listener& l);
  bool connect_backend(Conn& c);
  void on_side(Side& s, uint32_t events);
  void connected(Conn& c);
  bool pump(Conn& c, Direction& d, Side& from, Side& to);
  void finish(Conn& c, bool reset, const char* backend_failure = nullptr);
  bool report(Conn& c);  // true if bytes moved since the last report
  char* buffer();

  // The in-kernel path (worker_kernel.cpp)
  void open_ring();
  bool enter_kernel(Conn& c);
  void kernel_step(Conn& c);
  bool move_passed(Conn& c, int k, bool& wait);
  void end_direction(Conn& c, int k, bool& wait);
  void set_budget(Conn& c, int k);
  void drain_ring();                          // takes every record waiting in this thread's ring
  void on_notice(const forward_record& r);    // a direction to look at
  void dispatch(Handle& h, uint32_t events);  // one epoll event
  uint32_t leave_out_repeats(Conn& c, int k, uint32_t n);
  void schedule_recheck(Conn& c);
  void recheck_due();
  void leave_kernel(Conn& c);
  static int on_ring_record(void* self, void* data, size_t size);

  // UDP (worker_udp.cpp)
  void on_udp_listener(Listener& l);
  void on_query(Listener& l, const SockAddr& from, const IpAddress& local, const char* data,
                size_t n);
  void on_flow(Flow& f);
  void flush(Listener& l);
  void flush_replies();
  void expire(Flow& f);

  void sweep(SteadyTime now);
  void reap();

  Engine& engine_;
  uint32_t index_ = 0;
  int ep_ = -1;
  Handle wake_handle_{Kind::wake};
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<PerService> services_;
  std::vector<Conn*> conns_;
  std::vector<Flow*> flows_;
  struct FlowId {
    uint32_t service;
    Endpoint client;
    IpAddress local;  // unspecified unless the listener is a wildcard
    bool operator==(const FlowId&) const = default;
  };
  struct FlowIdHash {
    size_t operator()(const FlowId& f) const;
  };
  std::unordered_map<FlowId, Flow*, FlowIdHash> flow_index_;
  std::vector<Conn*> dead_conns_;
  std::vector<Flow*> dead_flows_;
  std::vector<char*> free_buffers_;
  SteadyTime now_{}, last_sweep_{};
  std::unique_ptr<Datagrams> queries_;  // what the UDP listeners read, one batch at a time
  std::vector<Listener*> replies_due_;  // listeners with answers to send before sleeping

  Sockmap* sockmap_ = nullptr;  // the engine's, when some service forwards in the kernel
  ring_buffer* ring_ = nullptr;
  Handle ring_handle_{Kind::ring};
  std::vector<Conn*> by_pair_;           // this thread's connections on the kernel path
  std::vector<Conn*> rechecks_;          // waiting for the kernel to finish moving redirected bytes
  std::vector<forward_record> notices_;  // from the ring, looked at after it is drained
};

}  // namespace anycastd::proxy
