#include "proxy/bpf_errors.hpp"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>

#include "core/errno_text.hpp"

namespace anycastd::proxy {

std::string bpf_failure(const std::string& step, int err) {
  if (err < 0) err = -err;
  std::string s = step + ": " + errno_text(err);
  if (err == EPERM || err == EACCES) s += " (needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)";
  return s;
}

namespace {
int quiet(enum libbpf_print_level, const char*, va_list) {
  return 0;
}
}  // namespace

void silence_libbpf() {
  libbpf_set_print(quiet);
}

}  // namespace anycastd::proxy
