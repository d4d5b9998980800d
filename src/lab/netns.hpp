#pragma once
// Network namespaces for the lab's netns mode: one per device on one bridged segment
// (198.18.0.0/16), each created and removed by us. Also the two things that must run
// inside a namespace without a process of their own: a backend's web server, and a
// client's request.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/ip.hpp"
#include "core/result.hpp"

namespace anycastd::lab {

class Netns {
 public:
  // Names start with "acl<pid>-", so what a killed run leaves behind is recognisable.
  Netns();
  ~Netns();  // removes every namespace it made

  Status<> create_fabric();
  // Removes the namespaces of labs whose process no longer exists; returns how many.
  static size_t remove_stale();
  // A namespace with eth0 on the segment at `address`/16; `forward` turns on routing.
  Result<std::string, std::string> add(const std::string& device, const IpAddress& address,
                                       bool forward);
  Status<> default_route(const std::string& ns, const IpAddress& via);
  // An address on the namespace's loopback (a spoke's service behind a gateway).
  Status<> add_local(const std::string& ns, const IpAddress& a);
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  std::vector<std::string> made_;
  int next_ = 0;
};

// A web server inside `ns` answering like the simulated backends (200 with the region's
// text and an X-Lab-Region header, 503 while `failed`), on its own thread until destroyed.
class NetnsHttpServer {
 public:
  NetnsHttpServer(std::string ns, IpAddress address, uint16_t port, std::string answer,
                  std::string region);
  ~NetnsHttpServer();
  Status<> start();
  std::atomic<bool> failed{false};

 private:
  void serve(int listener);
  std::string ns_, answer_, region_;
  IpAddress address_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct NetnsReply {
  bool ok = false;
  std::string region, answer, why;
};

// One HTTP GET from inside `ns` (blocking, 2 s at most): run it on a thread of its own.
NetnsReply netns_http_get(const std::string& ns, const IpAddress& to, uint16_t port);

}  // namespace anycastd::lab
