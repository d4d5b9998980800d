#include "bfd/service.hpp"

namespace anycastd::bfd {

// One listening socket per local address and port, shared by the sessions that use it.
struct Service::Receiver : Datagram::Handler {
  Service* svc = nullptr;
  IpAddress local;
  bool multihop = false;
  std::unique_ptr<Datagram> socket;
  void on_datagram(const Endpoint& from, ByteView data) override {
    svc->deliver(*this, from, data, -1);
  }
  void on_datagram_ttl(const Endpoint& from, ByteView data, int ttl) override {
    svc->deliver(*this, from, data, ttl);
  }
  void on_error(const std::string&) override {}
};

struct Service::Entry : Service::Handle, Datagram::Handler {
  Service& svc;
  Key k;
  std::shared_ptr<Receiver> rx;
  std::unique_ptr<Datagram> tx;
  std::unique_ptr<Session> s;
  Entry(Service& sv, Key key) : svc(sv), k(key) {}
  ~Entry() override {
    s.reset();  // its timers first: none may send on the socket going away
    svc.by_disc_.erase(disc);
  }
  uint32_t disc = 0;
  const Session& session() const override { return *s; }
  Session& session() override { return *s; }
  const Key& key() const override { return k; }
  // The send socket hears only ICMP errors (a neighbour without BFD): nothing to do, the
  // session's detection time says the same thing in the protocol's terms.
  void on_datagram(const Endpoint&, ByteView) override {}
  void on_error(const std::string&) override {}
};

Service::Service(Loop& loop, Transport& transport, uint64_t seed)
    : loop_(loop),
      transport_(transport),
      next_disc_(static_cast<uint32_t>(seed * 2654435761u) | 1),
      seed_(seed) {}

Service::~Service() = default;

Result<std::shared_ptr<Service::Receiver>, std::string> Service::receiver(const IpAddress& local,
                                                                          bool multihop) {
  uint16_t port = multihop ? kMultiHopPort : kSingleHopPort;
  auto& slot = receivers_[{local, port}];
  if (auto r = slot.lock()) return r;
  auto r = std::make_shared<Receiver>();
  r->svc = this;
  r->local = local;
  r->multihop = multihop;
  UdpOptions o;
  o.receive_ttl = !multihop;
  o.reuse_address = true;
  auto sock = transport_.udp(Endpoint{local, port}, std::nullopt, r.get(), o);
  if (!sock) return Err(sock.error());
  r->socket = std::move(*sock);
  slot = r;
  return r;
}

Result<std::unique_ptr<Service::Handle>, std::string> Service::add(const Key& key,
                                                                   const Params& params,
                                                                   Session::OnChange on_change) {
  auto e = std::make_unique<Entry>(*this, key);
  auto rx = receiver(key.local, key.multihop);
  if (!rx) return Err(rx.error());
  e->rx = *rx;
  // RFC 5881 §4: the source port is in 49152-65535 and differs per session; TTL 255 so that
  // the neighbour's check passes.
  UdpOptions o;
  o.ttl = 255;
  std::string last;
  uint16_t dport = key.multihop ? kMultiHopPort : kSingleHopPort;
  for (uint32_t i = 0; i < 16384 && !e->tx; ++i) {
    auto port = static_cast<uint16_t>(49152 + (next_disc_ + i * 7919) % 16384);
    auto sock = transport_.udp(Endpoint{key.local, port}, Endpoint{key.remote, dport}, e.get(), o);
    if (sock)
      e->tx = std::move(*sock);
    else
      last = sock.error();
    if (i >= 64 && !e->tx) break;  // not a busy port: something else is wrong
  }
  if (!e->tx) return Err(last);
  do {
    e->disc = next_disc_++;
  } while (e->disc == 0 || by_disc_.count(e->disc));
  by_disc_[e->disc] = e.get();
  Entry* raw = e.get();
  Endpoint to{key.remote, dport};
  e->s = std::make_unique<Session>(
      loop_, e->disc, params, [raw, to](Bytes b) { raw->tx->send(to, std::move(b)); },
      std::move(on_change), seed_ + e->disc);
  return std::unique_ptr<Handle>(std::move(e));
}

void Service::deliver(Receiver& r, const Endpoint& from, ByteView data, int ttl) {
  // RFC 5881 §5: single-hop packets come with TTL 255 or not at all (-1: no kernel TTL).
  if (!r.multihop && ttl != -1 && ttl != 255) {
    dropped_++;
    return;
  }
  auto p = decode(data);
  if (!p) {
    dropped_++;
    return;
  }
  Entry* e = nullptr;
  if (p->your_disc) {
    // §6.8.6: the discriminator alone selects. FRR's bfdd sends a session without a
    // configured local address from whatever source the route gives (127.0.0.1 on loopback).
    auto it = by_disc_.find(p->your_disc);
    if (it != by_disc_.end()) e = it->second;
  } else {
    // §6.8.6: no discriminator yet; the neighbour's address (and our own) select.
    for (auto& [d, cand] : by_disc_)
      if (cand->k.remote == from.address && cand->rx.get() == &r) e = cand;
  }
  if (!e) {
    dropped_++;
    return;
  }
  e->s->receive(*p);
}

}  // namespace anycastd::bfd
