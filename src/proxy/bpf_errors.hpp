#pragma once
// What the in-kernel paths (sockmap.cpp, kernel_nat.cpp) say when a BPF step fails, and
// libbpf kept from printing its own diagnostics: the caller logs the reason once instead.
#include <string>

namespace anycastd::proxy {

// "<step>: <errno text>", with the capabilities to grant when the kernel said no.
std::string bpf_failure(const std::string& step, int err);
void silence_libbpf();

}  // namespace anycastd::proxy
