#pragma once
// One rtnetlink socket (libmnl) and the request/answer exchange the FIB and the address
// code share: send a message, then read until its ACK, or until the end of a dump.
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"

struct mnl_socket;
struct nlmsghdr;
struct nlattr;

namespace anycastd::fib {

class NetlinkSocket {
 public:
  static Result<std::unique_ptr<NetlinkSocket>, std::string> open();
  ~NetlinkSocket();

  // A new message in `buf` (resized to fit any request) with the next sequence number.
  nlmsghdr* start(std::vector<char>& buf, uint16_t type, uint16_t flags);
  // Sends it and reads the answers: each message of a dump goes to `each`; "" once the
  // ACK or the dump's end came, else the error text.
  using Each = int (*)(const nlmsghdr*, void*);
  std::string request(nlmsghdr* nlh, Each each = nullptr, void* data = nullptr);

 private:
  explicit NetlinkSocket(mnl_socket* nl);
  mnl_socket* nl_;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace anycastd::fib
