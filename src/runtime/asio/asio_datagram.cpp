// UDP sockets over the kernel.
#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/ip/udp.hpp>
#include <cstring>

#include "core/internal_error.hpp"
#include "runtime/asio/asio_endpoint.hpp"
#include "runtime/asio/asio_transport.hpp"

namespace anycastd::rt {
namespace {

using asio::ip::udp;

// Shared with the pending receive so that a socket closed from inside a handler is not
// touched again.
struct DatagramState : std::enable_shared_from_this<DatagramState> {
  explicit DatagramState(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  Datagram::Handler* handler = nullptr;
  bool closed = false;
  std::array<std::byte, 65536> buf;
  udp::endpoint from;
  bool with_ttl = false;

  // With the TTL: recvmsg for its control message, which asio does not read.
  void receive_with_ttl() {
    socket.async_wait(udp::socket::wait_read, [self = shared_from_this()](std::error_code ec) {
      if (self->closed || ec == asio::error::operation_aborted) return;
      if (ec) {
        self->handler->on_error(ec.message());
      } else {
        self->drain();
      }
      if (!self->closed) self->receive_with_ttl();
    });
  }
  void drain() {
    for (int i = 0; i < 64 && !closed; ++i) {
      sockaddr_storage sa{};
      iovec iov{buf.data(), buf.size()};
      alignas(cmsghdr) char control[128];
      msghdr m{};
      m.msg_name = &sa;
      m.msg_namelen = sizeof sa;
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(socket.native_handle(), &m, MSG_DONTWAIT);
      if (n < 0) return;  // EAGAIN: drained; errors surface on the next wait
      int ttl = -1;
      for (auto* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
          std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
      }
      udp::endpoint ep;
      std::memcpy(ep.data(), &sa, std::min<size_t>(m.msg_namelen, sizeof(sockaddr_storage)));
      // A datagram whose handler throws is dropped; the socket reads on.
      guarded(
          [&] { return "a datagram from " + from_asio(ep).to_string(); },
          [&] { handler->on_datagram_ttl(from_asio(ep), ByteView(buf.data(), size_t(n)), ttl); });
    }
  }

  void receive() {
    socket.async_receive_from(
        asio::buffer(buf), from, [self = shared_from_this()](const std::error_code& ec, size_t n) {
          if (self->closed) return;
          if (ec == asio::error::operation_aborted) return;
          if (ec) {
            self->handler->on_error(ec.message());
          } else {
            guarded([&] { return "a datagram from " + from_asio(self->from).to_string(); },
                    [&] {
                      self->handler->on_datagram(from_asio(self->from),
                                                 ByteView(self->buf.data(), n));
                    });
          }
          if (!self->closed) self->receive();
        });
  }
};

class AsioDatagram : public Datagram {
 public:
  explicit AsioDatagram(std::shared_ptr<DatagramState> st) : st_(std::move(st)) {}
  ~AsioDatagram() override {
    st_->closed = true;
    std::error_code ignored;
    st_->socket.close(ignored);
  }
  void send(const Endpoint& to, Bytes data) override {
    if (st_->closed) return;
    std::error_code ec;
    // Datagrams are small (a DNS query); a full send buffer drops it like the network would.
    st_->socket.send_to(asio::buffer(data), udp::endpoint(to_asio(to.address), to.port), 0, ec);
  }
  Endpoint local() const override {
    std::error_code ec;
    auto l = st_->socket.local_endpoint(ec);
    return ec ? Endpoint{} : from_asio(l);
  }

 private:
  std::shared_ptr<DatagramState> st_;
};

}  // namespace

Result<std::unique_ptr<Datagram>, std::string> AsioTransport::udp(Endpoint at,
                                                                  std::optional<Endpoint> peer,
                                                                  Datagram::Handler* h) {
  return udp(at, peer, h, UdpOptions{});
}

Result<std::unique_ptr<Datagram>, std::string> AsioTransport::udp(Endpoint at,
                                                                  std::optional<Endpoint> peer,
                                                                  Datagram::Handler* h,
                                                                  const UdpOptions& opts) {
  auto st = std::make_shared<DatagramState>(loop_.context());
  st->handler = h;
  udp::endpoint ep(to_asio(at.address), at.port);
  std::error_code ec;
  st->socket.open(ep.protocol(), ec);
  if (!ec) st->socket.non_blocking(true, ec);
  if (ec) return Err("udp socket " + at.to_string() + ": " + ec.message());
  int fd = st->socket.native_handle();
  bool v6 = at.address.is_v6();
  auto setopt = [&](int level, int name, int value, const char* what) -> std::string {
    if (::setsockopt(fd, level, name, &value, sizeof value) == 0) return {};
    return std::string("udp ") + at.to_string() + ": " + what + ": " + std::strerror(errno);
  };
  std::string err;
  if (opts.reuse_address) err = setopt(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (err.empty() && opts.ttl)
    err = v6 ? setopt(IPPROTO_IPV6, IPV6_UNICAST_HOPS, opts.ttl, "IPV6_UNICAST_HOPS")
             : setopt(IPPROTO_IP, IP_TTL, opts.ttl, "IP_TTL");
  if (err.empty() && opts.receive_ttl)
    err = v6 ? setopt(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT")
             : setopt(IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL");
  if (!err.empty()) return Err(err);
  st->socket.bind(ep, ec);
  if (ec) return Err("udp bind " + at.to_string() + ": " + ec.message());
  if (peer) {
    st->socket.connect(udp::endpoint(to_asio(peer->address), peer->port), ec);
    if (ec) return Err("udp connect " + peer->to_string() + ": " + ec.message());
  }
  st->with_ttl = opts.receive_ttl;
  if (st->with_ttl)
    st->receive_with_ttl();
  else
    st->receive();
  return std::unique_ptr<Datagram>(std::make_unique<AsioDatagram>(std::move(st)));
}

}  // namespace anycastd::rt
