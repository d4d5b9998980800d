#pragma once
// Byte streams and listeners, abstract so that sessions and checks run unchanged over the
// kernel (asio/) or over in-memory links (sim/).
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "core/ip.hpp"
#include "core/result.hpp"

namespace anycastd {

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;
  std::string to_string() const {
    return address.is_v6() ? "[" + address.to_string() + "]:" + std::to_string(port)
                           : address.to_string() + ":" + std::to_string(port);
  }
  bool operator==(const Endpoint&) const = default;
};

class Stream {
 public:
  struct Handler {
    virtual ~Handler() = default;
    virtual void on_data(ByteView data) = 0;
    // The peer closed or the connection failed. Not called after close().
    virtual void on_closed(const std::string& reason) = 0;
  };
  virtual ~Stream() = default;
  virtual void start(Handler* h) = 0;  // begins reading; h must outlive the stream or close()
  virtual void write(Bytes data) = 0;
  virtual void close() = 0;  // flushes queued writes best-effort, then closes
  virtual Endpoint local() const = 0;
  virtual Endpoint remote() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Endpoint local() const = 0;
};

using ConnectCallback = std::function<void(Result<std::unique_ptr<Stream>, std::string>)>;
using AcceptCallback = std::function<void(std::unique_ptr<Stream>)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // The callback runs on the loop, exactly once, unless the returned token is dropped first.
  virtual std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                        ConnectCallback cb) = 0;
  virtual Result<std::unique_ptr<Listener>, std::string> listen(Endpoint at, AcceptCallback cb) = 0;
};

}  // namespace anycastd
