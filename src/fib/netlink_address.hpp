#pragma once
// Adds and removes an address on an interface over rtnetlink (libmnl): the VIP as a
// loopback alias, as seed 004's `ifconfig lo:9 9.9.9.9 netmask 255.255.255.255 up`.
#include <memory>
#include <string>

#include "core/ip.hpp"
#include "core/result.hpp"
#include "fib/netlink_socket.hpp"

namespace anycastd::fib {

class NetlinkAddress {
 public:
  static Result<std::unique_ptr<NetlinkAddress>, std::string> open();

  enum class Added { added, already_present };
  // A host address (/32 or /128) on `ifname`.
  Result<Added, std::string> add(const IpAddress& a, const std::string& ifname = "lo");
  std::string remove(const IpAddress& a, const std::string& ifname = "lo");

 private:
  explicit NetlinkAddress(std::unique_ptr<NetlinkSocket> nl) : nl_(std::move(nl)) {}
  std::string request(uint16_t type, uint16_t flags, const IpAddress& a, const std::string& ifname);

  std::unique_ptr<NetlinkSocket> nl_;
};

}  // namespace anycastd::fib
