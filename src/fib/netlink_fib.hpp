#pragma once
// FibWriter over rtnetlink (libmnl): one request per route, acknowledged before the next,
// so a failure is reported against the prefix that caused it.
#include <memory>

#include "core/result.hpp"
#include "fib/fib_config.hpp"
#include "fib/fib_sync.hpp"
#include "fib/netlink_socket.hpp"

namespace anycastd::fib {

class NetlinkFib : public FibWriter {
 public:
  static Result<std::unique_ptr<NetlinkFib>, std::string> open(const FibConfig& cfg);
  ~NetlinkFib() override;

  std::string install(const KernelRoute& r) override;
  std::string remove(const Prefix& p) override;
  // Deletes routes with our protocol number in our table: what a previous run left behind
  // when it could not clean up (crash, SIGKILL). Returns how many it removed.
  Result<size_t, std::string> purge();

 private:
  NetlinkFib(std::unique_ptr<NetlinkSocket> nl, FibConfig cfg);

  std::unique_ptr<NetlinkSocket> nl_;
  FibConfig cfg_;
};

}  // namespace anycastd::fib
