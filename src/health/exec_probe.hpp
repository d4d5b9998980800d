#pragma once
// exec check: runs argv directly (no shell, so nothing in it is interpreted), exit code 0
// is success. The child is reaped from a loop timer; on timeout the Checker cancels and
// the child is killed.
#include "health/probe.hpp"

namespace anycastd::health {

std::unique_ptr<Probe> make_exec_probe(Loop& loop, const CheckConfig& cfg);

}  // namespace anycastd::health
