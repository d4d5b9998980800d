#include "runtime/asio/asio_transport.hpp"

#include "core/internal_error.hpp"

#include "runtime/asio/asio_endpoint.hpp"
#include "runtime/asio/tcp_options.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <deque>
#include <vector>

namespace anycastd::rt {

namespace {

using asio::ip::tcp;

// Shared with in-flight handlers so a closed stream's callbacks find it and return.
template <class Socket>
struct StreamState : std::enable_shared_from_this<StreamState<Socket>> {
  explicit StreamState(Socket s) : socket(std::move(s)) {}
  Socket socket;
  Stream::Handler* handler = nullptr;
  bool closed = false;
  bool writing = false;
  bool close_after_write = false;
  std::deque<Bytes> queue;
  std::vector<Bytes> inflight;  // being written; must live until the handler runs
  std::vector<asio::const_buffer> buffers;
  std::array<std::byte, 65536> buf;
  Endpoint local_ep, remote_ep;

  void read() {
    socket.async_read_some(
        asio::buffer(buf), [self = this->shared_from_this()](const std::error_code& ec, size_t n) {
          if (self->closed) return;
          if (ec)
            return self->fail(ec == asio::error::eof ? "connection closed by peer" : ec.message());
          // Bytes that make their handler throw cost this one connection, not the process.
          if (!guarded([&] { return "bytes from " + self->remote_ep.to_string(); },
                       [&] { self->handler->on_data(ByteView(self->buf.data(), n)); }))
            return self->fail("internal error handling the bytes received; connection closed");
          if (!self->closed) self->read();
        });
  }
  // Everything queued goes out in one gathered write (bounded), not a system call per
  // message: a table dump is a hundred thousand UPDATEs.
  void flush() {
    if (writing || queue.empty()) return;
    writing = true;
    size_t bytes = 0;
    while (!queue.empty() && inflight.size() < 256 && bytes < 256 * 1024) {
      bytes += queue.front().size();
      inflight.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    buffers.clear();
    for (const auto& b : inflight) buffers.push_back(asio::buffer(b));
    asio::async_write(socket, buffers,
                      [self = this->shared_from_this()](const std::error_code& ec, size_t) {
                        self->writing = false;
                        self->inflight.clear();
                        if (ec) {
                          if (!self->closed) self->fail(ec.message());
                          return;
                        }
                        if (!self->queue.empty()) return self->flush();
                        if (self->close_after_write) self->shutdown();
                      });
  }
  void fail(const std::string& reason) {
    closed = true;
    std::error_code ignored;
    socket.close(ignored);
    auto* h = handler;
    handler = nullptr;
    if (h) h->on_closed(reason);
  }
  void shutdown() {
    std::error_code ignored;
    socket.shutdown(Socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};

template <class Socket>
class AsioStream : public Stream {
 public:
  // Endpoints and TCP_NODELAY are looked up and set when first needed (at the latest when
  // reading starts): a TCP check's connect-and-reset needs neither, and each is a system call.
  explicit AsioStream(Socket s) : st_(std::make_shared<StreamState<Socket>>(std::move(s))) {}
  ~AsioStream() override { close(); }
  int native_handle() { return st_->socket.native_handle(); }
  void start(Handler* h) override {
    lookup_endpoints();  // answerable after the peer closes, for whoever reads from it
    st_->handler = h;
    st_->read();
  }
  void write(Bytes data) override {
    if (st_->closed) return;
    if constexpr (std::is_same_v<Socket, tcp::socket>) {
      if (!nodelay_) {
        std::error_code ec;
        st_->socket.set_option(tcp::no_delay(true), ec);
        nodelay_ = true;
      }
    }
    st_->queue.push_back(std::move(data));
    st_->flush();
  }
  void close() override {
    if (st_->closed) return;
    lookup_endpoints();  // still answerable after the socket is gone
    st_->closed = true;
    st_->handler = nullptr;
    // Let a queued NOTIFICATION reach the peer before the FIN.
    if (st_->writing || !st_->queue.empty()) {
      st_->close_after_write = true;
    } else {
      st_->shutdown();
    }
  }
  void abort() override {
    if (st_->closed) return;
    st_->closed = true;
    st_->handler = nullptr;
    // What is being written stays in `inflight` until its handler runs.
    st_->queue.clear();
    std::error_code ignored;
    if constexpr (std::is_same_v<Socket, tcp::socket>)
      st_->socket.set_option(asio::socket_base::linger(true, 0), ignored);
    st_->socket.close(ignored);
  }
  Endpoint local() const override {
    lookup_endpoints();
    return st_->local_ep;
  }
  Endpoint remote() const override {
    lookup_endpoints();
    return st_->remote_ep;
  }

 private:
  void lookup_endpoints() const {
    if constexpr (std::is_same_v<Socket, tcp::socket>) {
      if (endpoints_known_ || st_->closed) return;
      endpoints_known_ = true;
      std::error_code ec;
      auto l = st_->socket.local_endpoint(ec);
      if (!ec) st_->local_ep = from_asio(l);
      auto r = st_->socket.remote_endpoint(ec);
      if (!ec) st_->remote_ep = from_asio(r);
    }
  }
  std::shared_ptr<StreamState<Socket>> st_;
  mutable bool endpoints_known_ = false;
  bool nodelay_ = false;
};

class AsioListener : public Listener {
 public:
  AsioListener(asio::io_context& io, AcceptCallback cb) : acceptor_(io), cb_(std::move(cb)) {}
  ~AsioListener() override {
    *alive_ = false;
    std::error_code ignored;
    acceptor_.close(ignored);
  }
  std::string open(const Endpoint& at) {
    std::error_code ec;
    tcp::endpoint ep(to_asio(at.address), at.port);
    acceptor_.open(ep.protocol(), ec);
    if (ec) return ec.message();
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    int one = 1;
    // Bind before the address exists on an interface (a VIP alias added later).
    ::setsockopt(acceptor_.native_handle(), at.address.is_v4() ? IPPROTO_IP : IPPROTO_IPV6,
                 at.address.is_v4() ? IP_FREEBIND : IPV6_FREEBIND, &one, sizeof one);
    acceptor_.bind(ep, ec);
    if (ec) return "bind " + at.to_string() + ": " + ec.message();
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return ec.message();
    local_ = from_asio(acceptor_.local_endpoint(ec));
    accept();
    return {};
  }
  Endpoint local() const override { return local_; }
  std::string set_md5_key(const IpAddress& peer, const std::string& key) override {
    return set_tcp_md5_key(acceptor_.native_handle(), peer, key);
  }
  std::string set_ttl(int ttl) override {
    return rt::set_ttl(acceptor_.native_handle(), local_.address.is_v6(), ttl ? ttl : -1);
  }

 private:
  void accept() {
    acceptor_.async_accept([this, alive = alive_](const std::error_code& ec, tcp::socket s) {
      if (!*alive) return;
      if (!ec) cb_(std::make_unique<AsioStream<tcp::socket>>(std::move(s)));
      if (acceptor_.is_open()) accept();
    });
  }
  tcp::acceptor acceptor_;
  AcceptCallback cb_;
  Endpoint local_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::shared_ptr<void> AsioTransport::connect(std::optional<IpAddress> local, Endpoint remote,
                                             ConnectCallback cb) {
  return connect(local, remote, TcpOptions{}, std::move(cb));
}

std::shared_ptr<void> AsioTransport::connect(std::optional<IpAddress> local, Endpoint remote,
                                             const TcpOptions& opts, ConnectCallback cb) {
  auto sock = std::make_shared<tcp::socket>(loop_.context());
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  tcp::endpoint rep(to_asio(remote.address), remote.port);
  std::error_code ec;
  sock->open(rep.protocol(), ec);
  if (!ec && local) {
    sock->set_option(tcp::socket::reuse_address(true), ec);
    sock->bind(tcp::endpoint(to_asio(*local), 0), ec);
  }
  std::string failed = ec ? ec.message() : std::string();
  // Before the SYN: the key signs it, and the TTL is the handshake's too.
  if (failed.empty() && !opts.md5_key.empty())
    failed = set_tcp_md5_key(sock->native_handle(), remote.address, opts.md5_key);
  if (failed.empty() && opts.ttl)
    failed = set_ttl(sock->native_handle(), remote.address.is_v6(), opts.ttl);
  if (failed.empty() && opts.min_ttl)
    failed = set_min_ttl(sock->native_handle(), remote.address.is_v6(), opts.min_ttl);
  if (!failed.empty()) {
    loop_.post([weak, cb, msg = failed] {
      if (!weak.expired()) cb(Err(msg));
    });
    return token;
  }
  sock->async_connect(rep, [sock, weak, cb = std::move(cb)](const std::error_code& ec) {
    if (weak.expired()) {
      std::error_code ignored;
      sock->close(ignored);
      return;
    }
    if (ec) return cb(Err(ec.message()));
    cb(std::unique_ptr<Stream>(std::make_unique<AsioStream<tcp::socket>>(std::move(*sock))));
  });
  // Dropping the token abandons the attempt: closing the socket completes the handler.
  return std::shared_ptr<void>(token.get(), [token, sock](void*) mutable {
    std::error_code ignored;
    token.reset();
    sock->close(ignored);
  });
}

std::string AsioTransport::secure_accepted(Stream& s, const TcpOptions& opts) {
  auto* a = dynamic_cast<AsioStream<tcp::socket>*>(&s);
  if (!a) return "not a TCP stream";
  bool v6 = s.remote().address.is_v6();
  std::string e;
  if (opts.ttl) e = set_ttl(a->native_handle(), v6, opts.ttl);
  if (e.empty() && opts.min_ttl) e = set_min_ttl(a->native_handle(), v6, opts.min_ttl);
  return e;
}

std::shared_ptr<void> AsioTransport::connect_unix(const std::string& path, ConnectCallback cb) {
  using unix_socket = asio::local::stream_protocol::socket;
  auto sock = std::make_shared<unix_socket>(loop_.context());
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  sock->async_connect(
      asio::local::stream_protocol::endpoint(path),
      [sock, weak, path, cb = std::move(cb)](const std::error_code& ec) {
        if (weak.expired()) {
          std::error_code ignored;
          sock->close(ignored);
          return;
        }
        if (ec) return cb(Err(path + ": " + ec.message()));
        cb(std::unique_ptr<Stream>(std::make_unique<AsioStream<unix_socket>>(std::move(*sock))));
      });
  return std::shared_ptr<void>(token.get(), [token, sock](void*) mutable {
    std::error_code ignored;
    token.reset();
    sock->close(ignored);
  });
}

Result<std::unique_ptr<Listener>, std::string> AsioTransport::listen(Endpoint at,
                                                                     AcceptCallback cb) {
  auto l = std::make_unique<AsioListener>(loop_.context(), std::move(cb));
  auto err = l->open(at);
  if (!err.empty()) return Err(err);
  return std::unique_ptr<Listener>(std::move(l));
}

}  // namespace anycastd::rt
