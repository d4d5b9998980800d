#pragma once
// Adds and removes an address on an interface over rtnetlink (libmnl): the VIP as a
// loopback alias, as seed 004's `ifconfig lo:9 9.9.9.9 netmask 255.255.255.255 up`.
#include <memory>
#include <string>

#include "core/ip.hpp"
#include "core/result.hpp"

struct mnl_socket;

namespace anycastd::fib {

class NetlinkAddress {
 public:
  static Result<std::unique_ptr<NetlinkAddress>, std::string> open();
  ~NetlinkAddress();

  enum class Added { added, already_present };
  // A host address (/32 or /128) on `ifname`.
  Result<Added, std::string> add(const IpAddress& a, const std::string& ifname = "lo");
  std::string remove(const IpAddress& a, const std::string& ifname = "lo");

 private:
  explicit NetlinkAddress(mnl_socket* nl);
  std::string request(uint16_t type, uint16_t flags, const IpAddress& a, const std::string& ifname);

  mnl_socket* nl_;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace anycastd::fib
