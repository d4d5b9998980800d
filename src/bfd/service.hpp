#pragma once
// The daemon's BFD sessions over UDP (RFC 5881 single hop, RFC 5883 multihop): the sockets,
// the demultiplexing of what arrives to a session, and the TTL rule. One per speaker; each
// BGP peer with `bfd:` holds a Handle, and destroying the Handle ends the session.
#include <map>
#include <memory>

#include "bfd/session.hpp"
#include "runtime/transport.hpp"

namespace anycastd::bfd {

struct Key {
  IpAddress local;  // unspecified: whatever address the kernel sends from
  IpAddress remote;
  bool multihop = false;
};

class Service {
 public:
  Service(Loop& loop, Transport& transport, uint64_t seed = 1);
  ~Service();

  class Handle {
   public:
    virtual ~Handle() = default;
    virtual const Session& session() const = 0;
    virtual Session& session() = 0;
    virtual const Key& key() const = 0;
  };
  // The OnChange callback must not destroy the Handle.
  Result<std::unique_ptr<Handle>, std::string> add(const Key& key, const Params& params,
                                                   Session::OnChange on_change);
  // Datagrams refused before reaching a session, for `show bfd` and the metrics.
  uint64_t dropped() const { return dropped_; }

 private:
  struct Entry;
  struct Receiver;
  friend struct Entry;
  void deliver(Receiver& r, const Endpoint& from, ByteView data, int ttl);
  Result<std::shared_ptr<Receiver>, std::string> receiver(const IpAddress& local, bool multihop);

  Loop& loop_;
  Transport& transport_;
  uint32_t next_disc_;
  uint64_t seed_;
  uint64_t dropped_ = 0;
  std::map<uint32_t, Entry*> by_disc_;
  std::map<std::pair<IpAddress, uint16_t>, std::weak_ptr<Receiver>> receivers_;
};

}  // namespace anycastd::bfd
