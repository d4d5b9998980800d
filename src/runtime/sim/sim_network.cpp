#include "runtime/sim/sim_network.hpp"

namespace anycastd::sim {

struct SimNetwork::Pipe {
  SimNetwork* net;
  Endpoint ends[2];
  Stream::Handler* handler[2] = {nullptr, nullptr};
  bool closed[2] = {false, false};  // side i closed itself or saw the close
  Bytes inbox[2];                   // data that arrived before start()
  std::optional<std::string> pending_close[2];
  bool severed = false;  // one end crashed: nothing more passes, not even a close
  // Bytes and closes sent while the two ends are partitioned, in order: TCP retransmits
  // them, so they arrive once the partition heals (if the other side still listens).
  std::vector<std::function<void()>> held;

  Duration delay() const { return net->latency(ends[0].address, ends[1].address); }
  bool cut() const { return net->blocked(ends[0].address, ends[1].address); }
  // Bytes for side `to` after the link's latency, or on heal while the link is cut.
  static void send(const std::shared_ptr<Pipe>& pipe, int to, Bytes data) {
    pipe->net->loop().schedule(pipe->delay(), [pipe, to, d = std::move(data)]() mutable {
      if (!pipe->cut()) return pipe->deliver(to, std::move(d));
      pipe->held.push_back(
          [pipe, to, d = std::move(d)]() mutable { pipe->deliver(to, std::move(d)); });
    });
  }
  // A close (FIN or reset) for side `to`, the same way.
  static void send_close(const std::shared_ptr<Pipe>& pipe, int to, const char* reason) {
    pipe->net->loop().schedule(pipe->delay(), [pipe, to, reason] {
      if (!pipe->cut()) return pipe->hang_up(to, reason);
      pipe->held.push_back([pipe, to, reason] { pipe->hang_up(to, reason); });
    });
  }
  void deliver(int to, Bytes data) {
    if (closed[to] || severed) return;
    if (!handler[to]) {
      inbox[to].insert(inbox[to].end(), data.begin(), data.end());
      return;
    }
    handler[to]->on_data(data);
  }
  void hang_up(int to, const std::string& reason) {
    if (closed[to] || severed) return;
    if (!handler[to]) {
      pending_close[to] = reason;
      return;
    }
    closed[to] = true;
    auto* h = handler[to];
    handler[to] = nullptr;
    h->on_closed(reason);
  }
};

namespace {

class SimStream : public Stream {
 public:
  SimStream(std::shared_ptr<SimNetwork::Pipe> pipe, int side)
      : pipe_(std::move(pipe)), side_(side) {}
  ~SimStream() override { close(); }

  void start(Handler* h) override {
    auto& p = *pipe_;
    p.handler[side_] = h;
    // Deliver what arrived early on the loop, never re-entrantly from start().
    pipe_->net->loop().post([pipe = pipe_, side = side_] {
      Bytes early = std::move(pipe->inbox[side]);
      pipe->inbox[side].clear();
      if (!early.empty()) pipe->deliver(side, std::move(early));
      if (pipe->pending_close[side]) pipe->hang_up(side, *pipe->pending_close[side]);
    });
  }
  void write(Bytes data) override {
    if (pipe_->closed[side_]) return;
    int to = 1 - side_;
    SimNetwork::Pipe::send(pipe_, to, std::move(data));
  }
  void close() override {
    if (pipe_->closed[side_]) return;
    pipe_->closed[side_] = true;
    pipe_->handler[side_] = nullptr;
    int to = 1 - side_;
    SimNetwork::Pipe::send_close(pipe_, to, "connection closed by peer");
  }
  void abort() override {
    if (pipe_->closed[side_]) return;
    pipe_->closed[side_] = true;
    pipe_->handler[side_] = nullptr;
    int to = 1 - side_;
    SimNetwork::Pipe::send_close(pipe_, to, "connection reset by peer");
  }
  Endpoint local() const override { return pipe_->ends[side_]; }
  Endpoint remote() const override { return pipe_->ends[1 - side_]; }

 private:
  std::shared_ptr<SimNetwork::Pipe> pipe_;
  int side_;
};

class HostTransport : public Transport {
 public:
  HostTransport(SimNetwork& net, IpAddress local) : net_(net), local_(local) {}
  using Transport::connect;
  std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                ConnectCallback cb) override {
    return net_.connect(local ? local : local_, remote, std::move(cb));
  }
  Result<std::unique_ptr<Listener>, std::string> listen(Endpoint at, AcceptCallback cb) override {
    return net_.listen(at, std::move(cb));
  }
  Result<std::unique_ptr<Datagram>, std::string> udp(Endpoint at, std::optional<Endpoint> peer,
                                                     Datagram::Handler* h) override {
    if (at.address == IpAddress{}) at.address = local_;
    return net_.udp(at, peer, h);
  }
  std::shared_ptr<void> connect_unix(const std::string& path, ConnectCallback cb) override {
    return net_.connect_unix(path, std::move(cb));
  }

 private:
  SimNetwork& net_;
  IpAddress local_;
};

}  // namespace

class SimListener : public Listener {
 public:
  SimListener(SimNetwork& net, Endpoint at) : net_(net), at_(at) {}
  ~SimListener() override { net_.listeners_.erase({at_.address, at_.port}); }
  Endpoint local() const override { return at_; }

 private:
  SimNetwork& net_;
  Endpoint at_;
};

std::shared_ptr<void> SimNetwork::connect(std::optional<IpAddress> local, Endpoint remote,
                                          ConnectCallback cb) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<void> weak = token;
  Endpoint from{local.value_or(IpAddress::v4(0x7F000001)), next_port_++};
  loop_.schedule(latency(from.address, remote.address) * 2, [this, weak, from, remote,
                                                             cb = std::move(cb)] {
    if (weak.expired()) return;
    // A powered-off host answers nothing: the connect hangs until the caller gives
    // up.
    // Across a partition the SYN is lost too: no answer either way.
    if (crashed(remote.address) || crashed(from.address) || blocked(from.address, remote.address))
      return;
    auto it = listeners_.find({remote.address, remote.port});
    if (it == listeners_.end()) it = listeners_.find({IpAddress{}, remote.port});
    if (it == listeners_.end()) {
      cb(Err(std::string("connection refused")));
      return;
    }
    auto pipe = std::make_shared<Pipe>();
    pipe->net = this;
    pipe->ends[0] = from;
    pipe->ends[1] = remote;
    pipes_.insert(pipe);
    auto accept = it->second;
    accept(std::make_unique<SimStream>(pipe, 1));
    cb(std::unique_ptr<Stream>(std::make_unique<SimStream>(pipe, 0)));
  });
  return token;
}

Result<std::unique_ptr<Listener>, std::string> SimNetwork::listen(Endpoint at, AcceptCallback cb) {
  auto key = std::make_pair(at.address, at.port);
  if (listeners_.count(key)) return Err(std::string("address in use: " + at.to_string()));
  listeners_[key] = std::move(cb);
  return std::unique_ptr<Listener>(std::make_unique<SimListener>(*this, at));
}

struct SimNetwork::UdpPort {
  Endpoint at;
  std::optional<Endpoint> peer;
  Datagram::Handler* handler = nullptr;  // null once the socket is gone
};

class SimDatagram : public Datagram {
 public:
  SimDatagram(SimNetwork& net, std::shared_ptr<SimNetwork::UdpPort> port)
      : net_(net), port_(std::move(port)) {}
  ~SimDatagram() override {
    port_->handler = nullptr;
    net_.udp_ports_.erase({port_->at.address, port_->at.port});
  }
  void send(const Endpoint& to, Bytes data) override {
    net_.loop().schedule(net_.latency(port_->at.address, to.address),
                         [&net = net_, from = port_->at, to, d = std::move(data)]() mutable {
                           net.deliver_datagram(from, to, std::move(d));
                         });
  }
  Endpoint local() const override { return port_->at; }

 private:
  SimNetwork& net_;
  std::shared_ptr<SimNetwork::UdpPort> port_;
};

Result<std::unique_ptr<Datagram>, std::string> SimNetwork::udp(Endpoint at,
                                                               std::optional<Endpoint> peer,
                                                               Datagram::Handler* h) {
  if (at.port == 0) at.port = next_port_++;
  auto key = std::make_pair(at.address, at.port);
  if (auto it = udp_ports_.find(key); it != udp_ports_.end() && !it->second.expired())
    return Err(std::string("udp bind " + at.to_string() + ": address in use"));
  auto port = std::make_shared<UdpPort>(UdpPort{at, peer, h});
  udp_ports_[key] = port;
  return std::unique_ptr<Datagram>(std::make_unique<SimDatagram>(*this, std::move(port)));
}

void SimNetwork::deliver_datagram(Endpoint from, Endpoint to, Bytes data) {
  if (blocked(from.address, to.address) || crashed(from.address) || crashed(to.address)) return;
  auto find = [this](const Endpoint& e) -> std::shared_ptr<UdpPort> {
    auto it = udp_ports_.find({e.address, e.port});
    if (it == udp_ports_.end()) it = udp_ports_.find({IpAddress{}, e.port});
    return it == udp_ports_.end() ? nullptr : it->second.lock();
  };
  auto dst = find(to);
  if (dst && dst->handler && (!dst->peer || *dst->peer == from)) {
    dst->handler->on_datagram(from, data);
    return;
  }
  // Nobody listens: the ICMP port-unreachable travels back to a connected sender.
  loop_.schedule(latency_, [this, from, to] {
    auto src = udp_ports_.find({from.address, from.port});
    if (src == udp_ports_.end()) return;
    auto port = src->second.lock();
    if (port && port->handler && port->peer && *port->peer == to)
      port->handler->on_error("connection refused");
  });
}

std::shared_ptr<void> SimNetwork::connect_unix(const std::string& path, ConnectCallback cb) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<void> weak = token;
  loop_.post([weak, path, cb = std::move(cb)] {
    if (!weak.expired()) cb(Err(path + ": no Unix sockets in the simulator"));
  });
  return token;
}

std::unique_ptr<Transport> SimNetwork::host(IpAddress local) {
  return std::make_unique<HostTransport>(*this, local);
}

bool SimNetwork::blocked(const IpAddress& a, const IpAddress& b) const {
  // Every delivery asks: the usual answer is free.
  if (partitions_.empty() && isolated_.empty()) return false;
  return partitions_.count({a, b}) || partitions_.count({b, a}) || isolated_.count(a) ||
         isolated_.count(b);
}

void SimNetwork::partition(IpAddress a, IpAddress b) {
  partitions_.insert({a, b});
}

void SimNetwork::crash(IpAddress host) {
  dead_.insert(host);
  for (auto it = pipes_.begin(); it != pipes_.end();) {
    if ((*it)->ends[0].address == host || (*it)->ends[1].address == host) {
      (*it)->severed = true;
      it = pipes_.erase(it);
    } else {
      ++it;
    }
  }
}

void SimNetwork::set_latency(IpAddress a, IpAddress b, Duration d) {
  latencies_[{a, b}] = d;
  latencies_[{b, a}] = d;
}

Duration SimNetwork::latency(const IpAddress& a, const IpAddress& b) const {
  if (latencies_.empty()) return latency_;
  auto it = latencies_.find({a, b});
  return it == latencies_.end() ? latency_ : it->second;
}

void SimNetwork::heal(IpAddress a, IpAddress b) {
  partitions_.erase({a, b});
  partitions_.erase({b, a});
  release_held();
}

void SimNetwork::isolate(IpAddress host) {
  isolated_.insert(host);
}

void SimNetwork::rejoin(IpAddress host) {
  isolated_.erase(host);
  release_held();
}

void SimNetwork::release_held() {
  for (const auto& pipe : pipes_) {
    if (pipe->held.empty() || pipe->cut()) continue;
    // What waited arrives in order, one latency later, as TCP's retransmissions would.
    loop_.schedule(pipe->delay(), [pipe, held = std::move(pipe->held)] {
      for (const auto& arrive : held) arrive();
    });
    pipe->held.clear();
  }
}

}  // namespace anycastd::sim
