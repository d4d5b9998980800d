// UDP forwarding for request/answer protocols such as DNS: each client address gets a
// flow with its own connected socket toward the chosen backend, so answers find their way
// back; they leave through the service's socket, that is from the VIP itself. Queries are
// read in batches (recvmmsg) and answers sent in batches (sendmmsg) once the thread has
// nothing more to read, so that a busy thread makes about two system calls per query
// instead of five.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/worker.hpp"

namespace anycastd::proxy {

namespace {

// The local address a datagram came to, from its IP_PKTINFO or IPV6_PKTINFO.
IpAddress destination(const msghdr& h) {
  for (auto* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr = pi.ipi_addr;
      return from_sockaddr(reinterpret_cast<const sockaddr*>(&sa)).address;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      sockaddr_in6 sa{};
      sa.sin6_family = AF_INET6;
      sa.sin6_addr = pi.ipi6_addr;
      return from_sockaddr(reinterpret_cast<const sockaddr*>(&sa)).address;
    }
  }
  return {};
}

// A control message that makes the kernel send from `local`.
size_t source_control(const IpAddress& local, char* buf, size_t room) {
  std::memset(buf, 0, room);
  auto sa = to_sockaddr({local, 0});
  auto* c = reinterpret_cast<cmsghdr*>(buf);
  if (local.is_v4()) {
    in_pktinfo pi{};
    pi.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(sa.get())->sin_addr;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
  in6_pktinfo pi{};
  pi.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(sa.get())->sin6_addr;
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof pi);
  std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
  return CMSG_SPACE(sizeof pi);
}

}  // namespace

void Worker::on_udp_listener(Listener& l) {
  if (!queries_) queries_ = std::make_unique<Datagrams>();
  auto& q = *queries_;
  for (;;) {
    for (unsigned i = 0; i < Datagrams::kSlots; ++i) {
      auto& h = q.msgs[i].msg_hdr;
      q.iov[i] = {q.slot(i), Datagrams::kSize};
      h.msg_iov = &q.iov[i];
      h.msg_iovlen = 1;
      h.msg_name = q.peer[i].get();
      h.msg_namelen = sizeof q.peer[i].storage;
      h.msg_control = l.wildcard ? q.control[i] : nullptr;
      h.msg_controllen = l.wildcard ? Datagrams::kControl : 0;
    }
    int n = ::recvmmsg(l.fd, q.msgs, Datagrams::kSlots, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < n; ++i) {
      q.peer[i].length = q.msgs[i].msg_hdr.msg_namelen;
      on_query(l, q.peer[i], l.wildcard ? destination(q.msgs[i].msg_hdr) : IpAddress{},
               q.slot(static_cast<unsigned>(i)), q.msgs[i].msg_len);
    }
    // A short batch emptied the queue; edge-triggered epoll reports what comes next.
    if (n < static_cast<int>(Datagrams::kSlots)) return;
  }
}

void Worker::on_query(Listener& l, const SockAddr& from, const IpAddress& local, const char* data,
                      size_t n) {
  auto& svc = *engine_.services()[l.service];
  Endpoint client = from_sockaddr(from.get());
  Flow* f = nullptr;
  if (auto it = flow_index_.find({l.service, client, local}); it != flow_index_.end()) {
    f = it->second;
  } else {
    if (svc.active.load(std::memory_order_relaxed) >= svc.cfg.max_connections) {
      svc.refused.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    FlowKey k{client.address, client.port, svc.cfg.listen.address, svc.cfg.listen.port, 17};
    auto be = choose(l.service, k);
    if (!be) {
      svc.refused.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    bool in_progress;
    auto fd = start_connect(services_[l.service].state->configs[*be].endpoint, Protocol::udp,
                            in_progress);
    if (!fd) {
      svc.backends[*be].failures.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    f = new Flow;
    f->kind = Kind::udp_flow;
    f->fd = *fd;
    f->service = l.service;
    f->backend_index = *be;
    f->opened = now_;
    f->via = &l;
    f->client = from;
    f->client_ep = client;
    f->local = local;
    f->slot = static_cast<uint32_t>(flows_.size());
    flows_.push_back(f);
    flow_index_[{l.service, client, local}] = f;
    add(f->fd, f, EPOLLIN | EPOLLET);
    services_[l.service].balancer->opened(*be);
    svc.active.fetch_add(1, std::memory_order_relaxed);
    svc.backends[*be].connections.fetch_add(1, std::memory_order_relaxed);
    svc.backends[*be].active.fetch_add(1, std::memory_order_relaxed);
  }
  f->deadline = now_ + svc.cfg.idle_timeout;
  if (::send(f->fd, data, n, 0) == static_cast<ssize_t>(n))
    svc.backends[f->backend_index].bytes_in.fetch_add(n, std::memory_order_relaxed);
}

// Answers go straight into the listener's send batch, addressed to the flow's client.
void Worker::on_flow(Flow& f) {
  if (f.dead) return;
  auto& svc = *engine_.services()[f.service];
  Listener& l = *f.via;
  if (!l.replies) l.replies = std::make_unique<Datagrams>();
  auto& out = *l.replies;
  for (;;) {
    if (out.count == Datagrams::kSlots) flush(l);
    // A flow usually has one answer waiting: a few slots per call, not the whole batch's
    // headers set up again for every answer.
    constexpr unsigned kPerFlow = 4;
    unsigned first = out.count, room = std::min(kPerFlow, Datagrams::kSlots - first);
    for (unsigned i = first; i < first + room; ++i) {
      auto& h = out.msgs[i].msg_hdr;
      out.iov[i] = {out.slot(i), Datagrams::kSize};
      h = msghdr{};
      h.msg_iov = &out.iov[i];
      h.msg_iovlen = 1;
    }
    int n = ::recvmmsg(f.fd, out.msgs + first, room, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      // ECONNREFUSED: the port-unreachable of a backend that is not listening.
      svc.backends[f.backend_index].failures.fetch_add(1, std::memory_order_relaxed);
      if (engine_.on_failure()) engine_.on_failure()(f.service, f.backend_index, errno_text(errno));
      return expire(f);
    }
    f.deadline = now_ + svc.cfg.idle_timeout;
    if (out.count == 0 && n > 0) replies_due_.push_back(&l);
    for (unsigned i = first; i < first + static_cast<unsigned>(n); ++i) {
      auto& h = out.msgs[i].msg_hdr;
      out.iov[i].iov_len = out.msgs[i].msg_len;
      out.peer[i] = f.client;
      h.msg_name = out.peer[i].get();
      h.msg_namelen = out.peer[i].length;
      if (l.wildcard && !f.local.is_unspecified()) {
        h.msg_control = out.control[i];
        h.msg_controllen = source_control(f.local, out.control[i], Datagrams::kControl);
      }
      out.backend[i] = f.backend_index;
    }
    out.count += static_cast<unsigned>(n);
    if (static_cast<unsigned>(n) < room) return;
  }
}

void Worker::flush(Listener& l) {
  auto& out = *l.replies;
  auto& svc = *engine_.services()[l.service];
  unsigned sent = 0;
  while (sent < out.count) {
    int n = ::sendmmsg(l.fd, out.msgs + sent, out.count - sent, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The socket's send buffer is full or the client is unreachable: what is left of
      // this batch is dropped, as one sendto would have dropped it.
      svc.dropped.fetch_add(out.count - sent, std::memory_order_relaxed);
      break;
    }
    for (unsigned i = sent; i < sent + static_cast<unsigned>(n); ++i)
      svc.backends[out.backend[i]].bytes_out.fetch_add(out.msgs[i].msg_len,
                                                       std::memory_order_relaxed);
    sent += static_cast<unsigned>(n);
  }
  out.count = 0;
}

void Worker::flush_replies() {
  for (auto* l : replies_due_)
    if (l->replies && l->replies->count) flush(*l);
  replies_due_.clear();
}

void Worker::expire(Flow& f) {
  if (f.dead) return;
  f.dead = true;
  auto& svc = *engine_.services()[f.service];
  ::close(f.fd);
  services_[f.service].balancer->closed(f.backend_index);
  svc.active.fetch_sub(1, std::memory_order_relaxed);
  svc.backends[f.backend_index].active.fetch_sub(1, std::memory_order_relaxed);
  flow_index_.erase({f.service, f.client_ep, f.local});
  flows_[f.slot] = flows_.back();
  flows_[f.slot]->slot = f.slot;
  flows_.pop_back();
  dead_flows_.push_back(&f);
}

}  // namespace anycastd::proxy
