#pragma once
// TCP streams and listeners over the kernel.
#include "runtime/asio/asio_loop.hpp"
#include "runtime/transport.hpp"

namespace anycastd::rt {

class AsioTransport : public Transport {
 public:
  explicit AsioTransport(AsioLoop& loop) : loop_(loop) {}
  std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                ConnectCallback cb) override;
  Result<std::unique_ptr<Listener>, std::string> listen(Endpoint at, AcceptCallback cb) override;

 private:
  AsioLoop& loop_;
};

}  // namespace anycastd::rt
