#pragma once
// TCP and Unix streams, listeners and UDP sockets over the kernel.
#include "runtime/asio/asio_loop.hpp"
#include "runtime/transport.hpp"

#include <vector>

namespace anycastd::rt {

class AsioTransport : public Transport {
 public:
  explicit AsioTransport(AsioLoop& loop) : loop_(loop) {}
  ~AsioTransport() override;
  std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                ConnectCallback cb) override;
  std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                const TcpOptions& opts, ConnectCallback cb) override;
  std::string secure_accepted(Stream& s, const TcpOptions& opts) override;
  // Without the reactor when it can: on loopback the handshake has finished by the time
  // connect() returns, so a second connect() reports the outcome with no epoll
  // registration at all, and the reset socket is kept for the next probe. Otherwise the
  // socket waits on the reactor.
  std::shared_ptr<void> probe_connect(std::optional<IpAddress> local, Endpoint remote,
                                      ProbeCallback cb) override;
  Result<std::unique_ptr<Listener>, std::string> listen(Endpoint at, AcceptCallback cb) override;
  Result<std::unique_ptr<Datagram>, std::string> udp(Endpoint at, std::optional<Endpoint> peer,
                                                     Datagram::Handler* h) override;
  Result<std::unique_ptr<Datagram>, std::string> udp(Endpoint at, std::optional<Endpoint> peer,
                                                     Datagram::Handler* h,
                                                     const UdpOptions& opts) override;
  std::shared_ptr<void> connect_unix(const std::string& path, ConnectCallback cb) override;

 private:
  AsioLoop& loop_;
  std::vector<int> probe_pool_[2];  // idle probe sockets, IPv4 and IPv6
};

}  // namespace anycastd::rt
