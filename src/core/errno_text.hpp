#pragma once
// A system error number as the words users see in logs and check results
// ("Connection refused"), shared by the forwarding threads and the event loop's sockets.
#include <cstring>
#include <string>

namespace anycastd {

inline std::string errno_text(int err) {
  return std::strerror(err);
}

}  // namespace anycastd
