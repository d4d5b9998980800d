// UDP sockets over the kernel.
#include <asio/ip/udp.hpp>

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

  void receive() {
    socket.async_receive_from(
        asio::buffer(buf), from, [self = shared_from_this()](const std::error_code& ec, size_t n) {
          if (self->closed) return;
          if (ec == asio::error::operation_aborted) return;
          if (ec) {
            self->handler->on_error(ec.message());
          } else {
            self->handler->on_datagram(from_asio(self->from), ByteView(self->buf.data(), n));
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
  auto st = std::make_shared<DatagramState>(loop_.context());
  st->handler = h;
  udp::endpoint ep(to_asio(at.address), at.port);
  std::error_code ec;
  st->socket.open(ep.protocol(), ec);
  if (!ec) st->socket.non_blocking(true, ec);
  if (!ec) st->socket.bind(ep, ec);
  if (ec) return Err("udp bind " + at.to_string() + ": " + ec.message());
  if (peer) {
    st->socket.connect(udp::endpoint(to_asio(peer->address), peer->port), ec);
    if (ec) return Err("udp connect " + peer->to_string() + ": " + ec.message());
  }
  st->receive();
  return std::unique_ptr<Datagram>(std::make_unique<AsioDatagram>(std::move(st)));
}

}  // namespace anycastd::rt
