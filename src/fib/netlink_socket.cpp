#include "fib/netlink_socket.hpp"

#include <libmnl/libmnl.h>

#include <cerrno>
#include <cstring>

#include "fib/route_dump.hpp"

namespace anycastd::fib {

Result<std::unique_ptr<NetlinkSocket>, std::string> NetlinkSocket::open() {
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (!nl) return Err(std::string("netlink socket: ") + std::strerror(errno));
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    std::string e = std::string("netlink bind: ") + std::strerror(errno);
    mnl_socket_close(nl);
    return Err(e);
  }
  return std::unique_ptr<NetlinkSocket>(new NetlinkSocket(nl));
}

NetlinkSocket::NetlinkSocket(mnl_socket* nl) : nl_(nl), portid_(mnl_socket_get_portid(nl)) {}

NetlinkSocket::~NetlinkSocket() {
  mnl_socket_close(nl_);
}

nlmsghdr* NetlinkSocket::start(std::vector<char>& buf, uint16_t type, uint16_t flags) {
  buf.assign(MNL_SOCKET_BUFFER_SIZE, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  nlh->nlmsg_seq = ++seq_;
  return nlh;
}

std::string NetlinkSocket::request(nlmsghdr* nlh, Each each, void* data) {
  uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return std::strerror(errno);
  std::vector<char> rx(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl_, rx.data(), rx.size());
    if (n < 0) return std::strerror(errno);
    if (whole_messages(rx.data(), static_cast<size_t>(n)) != static_cast<size_t>(n))
      return "malformed netlink reply";
    int rc = mnl_cb_run(rx.data(), static_cast<size_t>(n), seq, portid_, each, data);
    if (rc == MNL_CB_ERROR) return std::strerror(errno);
    if (rc == MNL_CB_STOP) return {};
    // MNL_CB_OK with no ACK (or dump end) yet: keep reading.
  }
}

}  // namespace anycastd::fib
