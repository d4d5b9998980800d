#include "fib/netlink_fib.hpp"

#include "fib/route_dump.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace anycastd::fib {
namespace {

int family_of(const IpAddress& a) {
  return a.is_v4() ? AF_INET : AF_INET6;
}

// Header fields every request for one of our routes shares.
// Deletes leave the metric out so they also match a route left by a run with another one.
rtmsg* put_route_header(nlmsghdr* nlh, const Prefix& p, const FibConfig& cfg, bool metric) {
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<uint8_t>(family_of(p.address()));
  rtm->rtm_dst_len = p.length();
  rtm->rtm_table = cfg.table < 256 ? static_cast<uint8_t>(cfg.table) : uint8_t{RT_TABLE_UNSPEC};
  rtm->rtm_protocol = cfg.protocol;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32(nlh, RTA_TABLE, cfg.table);
  mnl_attr_put(nlh, RTA_DST, p.address().byte_size(), p.address().raw().data());
  if (metric) mnl_attr_put_u32(nlh, RTA_PRIORITY, cfg.metric);
  return rtm;
}

}  // namespace

Result<std::unique_ptr<NetlinkFib>, std::string> NetlinkFib::open(const FibConfig& cfg) {
  auto nl = NetlinkSocket::open();
  if (!nl) return Err(nl.error());
  return std::unique_ptr<NetlinkFib>(new NetlinkFib(std::move(*nl), cfg));
}

NetlinkFib::NetlinkFib(std::unique_ptr<NetlinkSocket> nl, FibConfig cfg)
    : nl_(std::move(nl)), cfg_(cfg) {}

NetlinkFib::~NetlinkFib() = default;

std::string NetlinkFib::install(const KernelRoute& r) {
  std::vector<char> buf;
  nlmsghdr* nlh =
      nl_->start(buf, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK);
  put_route_header(nlh, r.prefix, cfg_, true);
  if (r.next_hops.size() == 1) {
    const auto& nh = r.next_hops.front();
    mnl_attr_put(nlh, RTA_GATEWAY, nh.byte_size(), nh.raw().data());
  } else {
    nlattr* nest = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
    for (const auto& nh : r.next_hops) {
      auto* rtnh = static_cast<rtnexthop*>(mnl_nlmsg_get_payload_tail(nlh));
      std::memset(rtnh, 0, sizeof(*rtnh));
      nlh->nlmsg_len += RTNH_ALIGN(sizeof(*rtnh));
      mnl_attr_put(nlh, RTA_GATEWAY, nh.byte_size(), nh.raw().data());
      rtnh->rtnh_len = static_cast<unsigned short>(
          static_cast<char*>(mnl_nlmsg_get_payload_tail(nlh)) - reinterpret_cast<char*>(rtnh));
    }
    mnl_attr_nest_end(nlh, nest);
  }
  return nl_->request(nlh);
}

std::string NetlinkFib::remove(const Prefix& p) {
  std::vector<char> buf;
  nlmsghdr* nlh = nl_->start(buf, RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK);
  put_route_header(nlh, p, cfg_, false);
  return nl_->request(nlh);
}

Result<size_t, std::string> NetlinkFib::purge() {
  RouteDump found{&cfg_, {}};
  for (int family : {AF_INET, AF_INET6}) {
    std::vector<char> buf;
    nlmsghdr* nlh = nl_->start(buf, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = static_cast<uint8_t>(family);
    if (auto e = nl_->request(nlh, collect_route, &found); !e.empty())
      return Err("route dump: " + e);
  }
  for (const auto& p : found.prefixes)
    if (auto e = remove(p); !e.empty()) return Err("remove stale " + p.to_string() + ": " + e);
  return found.prefixes.size();
}

}  // namespace anycastd::fib
