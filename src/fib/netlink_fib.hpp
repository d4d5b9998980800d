#pragma once
// FibWriter over rtnetlink (libmnl): one request per route, acknowledged before the next,
// so a failure is reported against the prefix that caused it.
#include <memory>

#include "core/result.hpp"
#include "fib/fib_config.hpp"
#include "fib/fib_sync.hpp"

struct mnl_socket;

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
  NetlinkFib(mnl_socket* nl, FibConfig cfg);
  std::string request(void* buf);

  mnl_socket* nl_;
  FibConfig cfg_;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace anycastd::fib
