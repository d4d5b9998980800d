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
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (!nl) return Err(std::string("netlink socket: ") + std::strerror(errno));
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    std::string e = std::string("netlink bind: ") + std::strerror(errno);
    mnl_socket_close(nl);
    return Err(e);
  }
  return std::unique_ptr<NetlinkAddress>(new NetlinkAddress(nl));
}

NetlinkAddress::NetlinkAddress(mnl_socket* nl) : nl_(nl), portid_(mnl_socket_get_portid(nl)) {}

NetlinkAddress::~NetlinkAddress() {
  mnl_socket_close(nl_);
}

std::string NetlinkAddress::request(uint16_t type, uint16_t flags, const IpAddress& a,
                                    const std::string& ifname) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (!index) return "no interface " + ifname;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  auto* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  nlh->nlmsg_seq = ++seq_;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = a.is_v4() ? AF_INET : AF_INET6;
  ifa->ifa_prefixlen = a.is_v4() ? 32 : 128;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put(nlh, IFA_LOCAL, a.byte_size(), a.raw().data());
  mnl_attr_put(nlh, IFA_ADDRESS, a.byte_size(), a.raw().data());
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return std::strerror(errno);
  std::vector<char> rx(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl_, rx.data(), rx.size());
    if (n < 0) return std::strerror(errno);
    int rc = mnl_cb_run(rx.data(), static_cast<size_t>(n), seq_, portid_, nullptr, nullptr);
    if (rc == MNL_CB_ERROR) return std::strerror(errno);
    if (rc == MNL_CB_STOP) return {};
  }
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
