#include "proxy/sockmap.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proxy/bpf_errors.hpp"
#include "proxy/forward.skel.h"

namespace anycastd::proxy {

namespace {

constexpr uint32_t kRingBytes = 256 << 10;  // 16,384 notifications of 16 bytes

uint64_t cookie(int fd) {
  uint64_t c = 0;
  socklen_t len = sizeof c;
  return ::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len) == 0 ? c : 0;
}

}  // namespace

Result<std::unique_ptr<Sockmap>, std::string> Sockmap::load(uint32_t pairs, uint32_t rings) {
  silence_libbpf();
  std::unique_ptr<Sockmap> m(new Sockmap);
  m->pairs_ = pairs;
  m->skel_ = forward_bpf::open();
  if (!m->skel_) return Err(bpf_failure("opening the BPF object", errno));
  const uint32_t entries = 2 * pairs;
  for (auto* map : {m->skel_->maps.sockets, m->skel_->maps.slots, m->skel_->maps.directions})
    bpf_map__set_max_entries(map, entries);
  // Rings are made here, one per thread; the program finds them through the outer array,
  // whose template is the first one.
  for (uint32_t i = 0; i < rings; ++i) {
    int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "forward_ring", 0, 0, kRingBytes, nullptr);
    if (fd < 0) return Err(bpf_failure("creating a notification ring", errno));
    m->rings_.push_back(fd);
  }
  bpf_map__set_max_entries(m->skel_->maps.rings, rings);
  if (int e = bpf_map__set_inner_map_fd(m->skel_->maps.rings, m->rings_.front()))
    return Err(bpf_failure("preparing the rings", e));
  if (int e = forward_bpf::load(m->skel_)) return Err(bpf_failure("loading the BPF program", e));
  for (uint32_t i = 0; i < rings; ++i)
    if (bpf_map_update_elem(bpf_map__fd(m->skel_->maps.rings), &i, &m->rings_[i], BPF_ANY) < 0)
      return Err(bpf_failure("installing a ring", errno));
  m->sockets_fd_ = bpf_map__fd(m->skel_->maps.sockets);
  m->slots_fd_ = bpf_map__fd(m->skel_->maps.slots);
  if (bpf_prog_attach(bpf_program__fd(m->skel_->progs.forward), m->sockets_fd_,
                      BPF_SK_SKB_STREAM_VERDICT, 0) < 0)
    return Err(bpf_failure("attaching the stream verdict", errno));
  m->mapped_ = size_t{entries} * sizeof(forward_direction);
  void* p = ::mmap(nullptr, m->mapped_, PROT_READ | PROT_WRITE, MAP_SHARED,
                   bpf_map__fd(m->skel_->maps.directions), 0);
  if (p == MAP_FAILED) return Err(bpf_failure("mapping the counters", errno));
  m->directions_ = static_cast<forward_direction*>(p);
  m->cookies_.assign(entries, 0);
  for (uint32_t i = pairs; i-- > 0;) m->free_.push_back(i);
  return m;
}

Sockmap::~Sockmap() {
  if (directions_) ::munmap(directions_, mapped_);
  if (skel_) forward_bpf::destroy(skel_);
  for (int fd : rings_) ::close(fd);
}

std::optional<uint32_t> Sockmap::acquire() {
  std::lock_guard l(mu_);
  if (free_.empty()) return std::nullopt;
  uint32_t p = free_.back();
  free_.pop_back();
  return p;
}

Sockmap::Inserted Sockmap::insert(uint32_t pair, int client, int backend, uint32_t ring,
                                  uint64_t window) {
  const int fds[2] = {client, backend};
  for (uint32_t side = 0; side < 2; ++side) {
    const uint32_t index = 2 * pair + side;
    auto& d = directions_[index];
    const uint32_t generation = d.generation + 1;
    d = forward_direction{};
    d.generation = generation;
    d.mode = FORWARD_PASS;
    d.ring = ring;
    d.limit = window;
    d.notify_at = window / 2;
    cookies_[index] = cookie(fds[side]);
  }
  uint64_t keys[2] = {cookies_[2 * pair], cookies_[2 * pair + 1]};
  uint32_t values[2] = {2 * pair, 2 * pair + 1};
  uint32_t count = 2;
  if (!keys[0] || !keys[1] || bpf_map_update_batch(slots_fd_, keys, values, &count, nullptr) < 0) {
    release(pair);
    return Inserted::neither;
  }
  // The client first: it is the side that most often has already half-closed, and when it
  // is refused nothing has changed yet.
  for (uint32_t side = 0; side < 2; ++side) {
    uint64_t fd = static_cast<uint64_t>(fds[side]);
    if (bpf_map_update_elem(sockets_fd_, &values[side], &fd, BPF_ANY) < 0) {
      if (side == 1) return Inserted::one;
      release(pair);
      return Inserted::neither;
    }
  }
  for (uint32_t side = 0; side < 2; ++side)
    __atomic_store_n(&directions_[2 * pair + side].mode, uint32_t{FORWARD_RESUME},
                     __ATOMIC_RELEASE);
  // The verdict runs when data arrives; setting the receive low-water mark (to its default)
  // makes TCP offer what already waits in the socket (tcp_set_rcvlowat calls data_ready).
  int one = 1;
  for (int fd : fds) ::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
  return Inserted::both;
}

void Sockmap::release(uint32_t pair) {
  uint64_t keys[2] = {cookies_[2 * pair], cookies_[2 * pair + 1]};
  uint32_t count = 2;
  bpf_map_delete_batch(slots_fd_, keys, &count, nullptr);
  std::lock_guard l(mu_);
  free_.push_back(pair);
}

}  // namespace anycastd::proxy
