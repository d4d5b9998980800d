#include "fib/route_dump.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace anycastd::fib {

int collect_route(const nlmsghdr* nlh, void* data) {
  auto* f = static_cast<RouteDump*>(data);
  // Only route messages carry an rtmsg; a payload shorter than one is not read.
  if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg))
    return MNL_CB_OK;
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return MNL_CB_OK;
  if (rtm->rtm_protocol != f->cfg->protocol) return MNL_CB_OK;
  struct Attrs {
    uint8_t family;
    uint32_t table;
    std::optional<IpAddress> dst;
  } at{rtm->rtm_family, rtm->rtm_table, std::nullopt};
  mnl_attr_parse(
      nlh, sizeof(*rtm),
      [](const nlattr* a, void* data) -> int {
        auto* at = static_cast<Attrs*>(data);
        auto type = mnl_attr_get_type(a);
        auto len = mnl_attr_get_payload_len(a);
        const auto* b = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
        if (type == RTA_TABLE && len == 4) at->table = mnl_attr_get_u32(a);
        if (type == RTA_DST && at->family == AF_INET && len == 4)
          at->dst = IpAddress::v4(uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 |
                                  uint32_t(b[2]) << 8 | b[3]);
        if (type == RTA_DST && at->family == AF_INET6 && len == 16) {
          std::array<uint8_t, 16> v{};
          std::memcpy(v.data(), b, 16);
          at->dst = IpAddress::v6(v);
        }
        return MNL_CB_OK;
      },
      &at);
  uint32_t table = at.table;
  auto dst = at.dst;
  if (table != f->cfg->table) return MNL_CB_OK;
  if (!dst) dst = rtm->rtm_family == AF_INET ? IpAddress::v4(0) : IpAddress::v6({});
  if (rtm->rtm_dst_len > (dst->is_v4() ? 32 : 128)) return MNL_CB_OK;
  f->prefixes.emplace_back(*dst, rtm->rtm_dst_len);
  return MNL_CB_OK;
}

size_t whole_messages(const void* buf, size_t len) {
  const auto* p = static_cast<const unsigned char*>(buf);
  size_t at = 0;
  while (len - at >= sizeof(nlmsghdr)) {
    nlmsghdr h;
    std::memcpy(&h, p + at, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - at) break;
    at += std::min<size_t>(NLMSG_ALIGN(h.nlmsg_len), len - at);
  }
  return at;
}

bool parse_route_dump(const void* buf, size_t len, RouteDump& out) {
  size_t whole = whole_messages(buf, len);
  return mnl_cb_run(buf, whole, 0, 0, collect_route, &out) >= MNL_CB_STOP && whole == len;
}

}  // namespace anycastd::fib
