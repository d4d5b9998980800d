#include "fib/netlink_address.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace anycastd::fib {

Result<std::unique_ptr<NetlinkAddress>, std::string> NetlinkAddress::open() {
  auto nl = NetlinkSocket::open();
  if (!nl) return Err(nl.error());
  return std::unique_ptr<NetlinkAddress>(new NetlinkAddress(std::move(*nl)));
}

std::string NetlinkAddress::request(uint16_t type, uint16_t flags, const IpAddress& a,
                                    const std::string& ifname) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (!index) return "no interface " + ifname;
  std::vector<char> buf;
  auto* nlh = nl_->start(buf, type, NLM_F_REQUEST | NLM_F_ACK | flags);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = a.is_v4() ? AF_INET : AF_INET6;
  ifa->ifa_prefixlen = a.is_v4() ? 32 : 128;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put(nlh, IFA_LOCAL, a.byte_size(), a.raw().data());
  mnl_attr_put(nlh, IFA_ADDRESS, a.byte_size(), a.raw().data());
  return nl_->request(nlh);
}

Result<NetlinkAddress::Added, std::string> NetlinkAddress::add(const IpAddress& a,
                                                               const std::string& ifname) {
  auto e = request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, a, ifname);
  if (e.empty()) return Added::added;
  // Somebody else's: leave it in place, and leave it there at exit too.
  if (e == std::strerror(EEXIST)) return Added::already_present;
  return Err("add " + a.to_string() + " to " + ifname + ": " + e);
}

std::string NetlinkAddress::remove(const IpAddress& a, const std::string& ifname) {
  auto e = request(RTM_DELADDR, 0, a, ifname);
  return e.empty() ? e : "remove " + a.to_string() + " from " + ifname + ": " + e;
}

}  // namespace anycastd::fib
