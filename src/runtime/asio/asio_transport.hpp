#pragma once
// TCP and Unix streams, listeners and UDP sockets over the kernel.
#include "runtime/asio/asio_loop.hpp"
#include "runtime/transport.hpp"

namespace anycastd::rt {

class AsioTransport : public Transport {
 public:
  explicit AsioTransport(AsioLoop& loop) : loop_(loop) {}
  std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                ConnectCallback cb) override;
  std::shared_ptr<void> connect_probe(std::optional<IpAddress> local, Endpoint remote,
                                      ConnectCallback cb) override;
  Result<std::unique_ptr<Listener>, std::string> listen(Endpoint at, AcceptCallback cb) override;
  Result<std::unique_ptr<Datagram>, std::string> udp(Endpoint at, std::optional<Endpoint> peer,
                                                     Datagram::Handler* h) override;
  std::shared_ptr<void> connect_unix(const std::string& path, ConnectCallback cb) override;

 private:
  std::shared_ptr<void> open(std::optional<IpAddress> local, Endpoint remote, bool probe,
                             ConnectCallback cb);
  AsioLoop& loop_;
};

}  // namespace anycastd::rt
