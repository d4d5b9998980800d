// UDP forwarding for request/answer protocols such as DNS: each client address gets a
// flow with its own connected socket toward the chosen backend, so answers find their way
// back; they leave through the service's socket, that is from the VIP itself.
#include <unistd.h>

#include <cerrno>

#include "proxy/worker.hpp"

namespace anycastd::proxy {

namespace {
constexpr size_t kMaxDatagram = 65535;
}

void Worker::on_udp_listener(Listener& l) {
  auto& svc = *engine_.services()[l.service];
  datagram_.resize(kMaxDatagram);
  for (;;) {
    SockAddr from;
    from.length = sizeof from.storage;
    ssize_t n = ::recvfrom(l.fd, datagram_.data(), datagram_.size(), 0, from.get(), &from.length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    Endpoint client = from_sockaddr(from.get());
    Flow* f = nullptr;
    if (auto it = flow_index_.find({l.service, client}); it != flow_index_.end()) {
      f = it->second;
    } else {
      if (svc.active.load(std::memory_order_relaxed) >= svc.cfg.max_connections) {
        svc.refused.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      FlowKey k{client.address, client.port, svc.cfg.listen.address, svc.cfg.listen.port, 17};
      auto be = choose(l.service, k);
      if (!be) {
        svc.refused.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      bool in_progress;
      auto fd = start_connect(svc.cfg.backends[*be].endpoint, Protocol::udp, in_progress);
      if (!fd) {
        svc.backends[*be].failures.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      f = new Flow;
      f->kind = Kind::udp_flow;
      f->fd = *fd;
      f->service = l.service;
      f->backend_index = *be;
      f->via = &l;
      f->client = from;
      f->client_ep = client;
      f->slot = static_cast<uint32_t>(flows_.size());
      flows_.push_back(f);
      flow_index_[{l.service, client}] = f;
      add(f->fd, f, EPOLLIN | EPOLLET);
      services_[l.service].balancer->opened(*be);
      svc.active.fetch_add(1, std::memory_order_relaxed);
      svc.backends[*be].connections.fetch_add(1, std::memory_order_relaxed);
      svc.backends[*be].active.fetch_add(1, std::memory_order_relaxed);
    }
    f->deadline = now_ + svc.cfg.idle_timeout;
    if (::send(f->fd, datagram_.data(), static_cast<size_t>(n), 0) == n)
      svc.backends[f->backend_index].bytes_in.fetch_add(static_cast<uint64_t>(n),
                                                        std::memory_order_relaxed);
  }
}

void Worker::on_flow(Flow& f) {
  if (f.dead) return;
  auto& svc = *engine_.services()[f.service];
  datagram_.resize(kMaxDatagram);
  for (;;) {
    ssize_t n = ::recv(f.fd, datagram_.data(), datagram_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      // ECONNREFUSED: the port-unreachable of a backend that is not listening.
      svc.backends[f.backend_index].failures.fetch_add(1, std::memory_order_relaxed);
      if (engine_.on_failure()) engine_.on_failure()(f.service, f.backend_index, errno_text(errno));
      return expire(f);
    }
    f.deadline = now_ + svc.cfg.idle_timeout;
    if (::sendto(f.via->fd, datagram_.data(), static_cast<size_t>(n), 0, f.client.get(),
                 f.client.length) == n)
      svc.backends[f.backend_index].bytes_out.fetch_add(static_cast<uint64_t>(n),
                                                        std::memory_order_relaxed);
  }
}

void Worker::expire(Flow& f) {
  if (f.dead) return;
  f.dead = true;
  auto& svc = *engine_.services()[f.service];
  ::close(f.fd);
  services_[f.service].balancer->closed(f.backend_index);
  svc.active.fetch_sub(1, std::memory_order_relaxed);
  svc.backends[f.backend_index].active.fetch_sub(1, std::memory_order_relaxed);
  flow_index_.erase({f.service, f.client_ep});
  flows_[f.slot] = flows_.back();
  flows_[f.slot]->slot = f.slot;
  flows_.pop_back();
  dead_flows_.push_back(&f);
}

}  // namespace anycastd::proxy
