#pragma once
// Reading the kernel's answer to a route dump (RTM_GETROUTE, NLM_F_DUMP): the prefixes of
// routes with our protocol number in our table. Separate from the socket so that the
// parser is fuzzed on bytes that no kernel sent: a short or malformed message is skipped,
// never read past.
#include <cstddef>
#include <vector>

#include "core/ip.hpp"
#include "fib/fib_config.hpp"

struct nlmsghdr;

namespace anycastd::fib {

struct RouteDump {
  const FibConfig* cfg;
  std::vector<Prefix> prefixes;
};

// A libmnl callback (mnl_cb_t) for one message of a dump; `data` is a RouteDump.
int collect_route(const ::nlmsghdr* nlh, void* data);

// The length of the leading run of whole netlink messages in `buf`. libmnl trusts each
// header's length (one over 2 GiB reads as negative and walks it off the buffer), so
// what it is given is checked here first.
size_t whole_messages(const void* buf, size_t len);

// Every message in `buf`, as mnl_cb_run would pass them (no sequence or port check).
// Returns false where libmnl stops on a malformed message or an error message.
bool parse_route_dump(const void* buf, size_t len, RouteDump& out);

}  // namespace anycastd::fib
