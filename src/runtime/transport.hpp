#pragma once
// Byte streams, listeners and datagram sockets, abstract so that sessions and checks run
// unchanged over the kernel (asio/) or over in-memory links (sim/).
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "core/ip.hpp"
#include "core/result.hpp"
#include "runtime/loop.hpp"

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
  // Closes at once with a reset, dropping queued writes: no FIN exchange and no TIME_WAIT,
  // the way HAProxy ends its health-check connections. Halves a check's kernel cost.
  virtual void abort() { close(); }
  virtual Endpoint local() const = 0;
  virtual Endpoint remote() const = 0;
};

// Per-session TCP settings of a BGP neighbour: the TCP-MD5 key (RFC 2385) and the TTL.
struct TcpOptions {
  std::string md5_key;  // empty: no signature
  int ttl = 0;          // 0: the system default
  // GTSM (RFC 5082): segments that arrive with a TTL (hop limit) below this are dropped by
  // the kernel; 0: no check.
  int min_ttl = 0;
  bool operator==(const TcpOptions&) const = default;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Endpoint local() const = 0;
  // Signs (and requires signed) segments from `peer` with `key` on this listener and the
  // connections it accepts; an empty key removes it. The error, or empty. A listener
  // without kernel sockets (the simulator) has nothing to sign and accepts every key.
  virtual std::string set_md5_key(const IpAddress& /*peer*/, const std::string& /*key*/) {
    return {};
  }
  // The TTL this listener answers with (the SYN-ACK's, inherited by what it accepts); GTSM
  // peers need 255 before they will complete a handshake. 0: the system default.
  virtual std::string set_ttl(int /*ttl*/) { return {}; }
};

// Socket settings of a UDP socket that BFD needs (RFC 5881 §5: TTL 255 both ways).
struct UdpOptions {
  int ttl = 0;  // 0: the system default
  bool receive_ttl = false;
  // Shares the port with a wildcard socket of another program (a routing daemon's BFD on
  // the same host), which must allow it too.
  bool reuse_address = false;
};

// A UDP socket. With a fixed peer it is connected: only that peer's datagrams arrive, and an
// ICMP port-unreachable is reported through on_error (the kernel's "connection refused").
// Destroying it, even from inside one of its handler's calls, stops all further calls.
class Datagram {
 public:
  struct Handler {
    virtual ~Handler() = default;
    virtual void on_datagram(const Endpoint& from, ByteView data) = 0;
    virtual void on_error(const std::string& reason) = 0;
    // With UdpOptions::receive_ttl: the datagram and the TTL (hop limit) it arrived with,
    // or -1 where the transport has none to report (the simulator's links are one hop).
    virtual void on_datagram_ttl(const Endpoint& from, ByteView data, int /*ttl*/) {
      on_datagram(from, data);
    }
  };
  virtual ~Datagram() = default;
  virtual void send(const Endpoint& to, Bytes data) = 0;
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
  // connect() with `opts` applied before the SYN is sent. Transports without kernel sockets
  // (the simulator) ignore them.
  virtual std::shared_ptr<void> connect(std::optional<IpAddress> local, Endpoint remote,
                                        const TcpOptions& /*opts*/, ConnectCallback cb) {
    return connect(local, remote, std::move(cb));
  }
  // Applies the TTL settings of `opts` to an accepted stream, before any of its bytes are
  // read. Transports without kernel sockets have none to apply.
  virtual std::string secure_accepted(Stream& /*s*/, const TcpOptions& /*opts*/) { return {}; }
  // Learns whether `remote` accepts a TCP connection, then resets it; the callback gets the
  // error, or nothing when the port accepted. Same token contract as connect(). The
  // handshake's last ACK is held back (TCP_QUICKACK off), so the server's kernel never queues
  // the connection for accept and the server does no work -- HAProxy's way of making TCP
  // checks cheap. The default opens a stream and aborts it.
  using ProbeCallback = std::function<void(std::optional<std::string> error)>;
  virtual std::shared_ptr<void> probe_connect(std::optional<IpAddress> local, Endpoint remote,
                                              ProbeCallback cb) {
    return connect(local, remote, [cb = std::move(cb)](auto r) {
      if (!r) return cb(r.error());
      (*r)->abort();
      cb(std::nullopt);
    });
  }
  virtual Result<std::unique_ptr<Listener>, std::string> listen(Endpoint at, AcceptCallback cb) = 0;
  // Binds a UDP socket at `at` (port 0: any); h must outlive the socket. Errors are
  // synchronous (bind failures).
  virtual Result<std::unique_ptr<Datagram>, std::string> udp(Endpoint at,
                                                             std::optional<Endpoint> peer,
                                                             Datagram::Handler* h) = 0;
  // udp() with `opts` applied before the bind. Transports without kernel sockets ignore
  // them and report no TTL.
  virtual Result<std::unique_ptr<Datagram>, std::string> udp(Endpoint at,
                                                             std::optional<Endpoint> peer,
                                                             Datagram::Handler* h,
                                                             const UdpOptions& /*opts*/) {
    return udp(at, peer, h);
  }
  // A stream to a local (Unix domain) socket, such as HAProxy's stats socket. Same contract
  // as connect().
  virtual std::shared_ptr<void> connect_unix(const std::string& path, ConnectCallback cb) = 0;
};

// Destroys a stream on the loop's next turn: for a caller inside one of its callbacks.
inline void destroy_later(Loop& loop, std::unique_ptr<Stream> s) {
  loop.post([s = std::shared_ptr<Stream>(std::move(s))] {});
}

}  // namespace anycastd
