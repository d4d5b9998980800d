// Runs in a network namespace of its own (a forked child), so the host's interfaces are
// never touched. Needs root; skipped otherwise.
#include "fib/netlink_address.hpp"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "proxy/socket_ops.hpp"

using namespace anycastd;

namespace {

bool bindable(const IpAddress& a) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto sa = proxy::to_sockaddr({a, 0});
  bool ok = ::bind(fd, sa.get(), sa.length) == 0;
  ::close(fd);
  return ok;
}

// Each step that fails exits with its own code, so the parent can say which.
int child() {
  if (::unshare(CLONE_NEWNET) != 0) return 77;
  // A new namespace's lo is down, and with no local table at all any bind succeeds.
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_UP;
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) return 9;
  ::close(s);
  auto vip = *IpAddress::parse("198.18.13.200");
  if (bindable(vip)) return 10;
  auto nl = fib::NetlinkAddress::open();
  if (!nl) return 11;
  auto added = (*nl)->add(vip);
  if (!added || *added != fib::NetlinkAddress::Added::added) return 12;
  auto again = (*nl)->add(vip);
  if (!again || *again != fib::NetlinkAddress::Added::already_present) return 13;
  if (!bindable(vip)) return 14;
  if (!(*nl)->remove(vip).empty()) return 15;
  if (bindable(vip)) return 16;
  if ((*nl)->remove(vip).empty()) return 17;  // removing what is not there is an error
  auto bad = (*nl)->add(vip, "no-such-if0");
  if (bad || bad.error().find("no interface no-such-if0") == std::string::npos) return 18;
  return 0;
}

}  // namespace

TEST(NetlinkAddress, AddsAndRemovesAVipOnLoopback) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(child());
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no network namespaces here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failed at step " << WEXITSTATUS(status);
}
