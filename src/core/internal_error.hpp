#pragma once
// The last resort at every boundary where outside input enters (a control request, a
// metrics scrape, bytes from a peer, a datagram, a handler on the loop): an exception that
// got that far is a bug of ours, but it must cost that one input, never the process. It is
// counted (anycastd_internal_errors_total) and logged, so it never goes unseen.
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>

namespace anycastd {

// Counts, then logs "internal error handling <what>: <why>" through the installed logger
// (stderr until the daemon installs its own).
void report_internal_error(std::string_view what, std::string_view why) noexcept;
uint64_t internal_errors() noexcept;
using InternalErrorLog = void (*)(std::string_view what, std::string_view why);
void set_internal_error_log(InternalErrorLog log) noexcept;

// Runs fn; an exception is reported as above and false returned, so the caller can drop
// the input or close its connection. `what` is a string, or a callable that makes one only
// when it is needed (the paths that read bytes from peers run this for every read).
template <class What, class F>
bool guarded(What&& what, F&& fn) noexcept {
  auto report = [&](std::string_view why) noexcept {
    if constexpr (std::is_invocable_v<What>) {
      try {
        report_internal_error(std::string(what()), why);
      } catch (...) {
        report_internal_error("an input", why);
      }
    } else {
      report_internal_error(std::string_view(what), why);
    }
  };
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    report(e.what());
  } catch (...) {
    report("an exception of unknown type");
  }
  return false;
}

}  // namespace anycastd
