#include "fib/fib_sync.hpp"

#include <algorithm>

namespace anycastd::fib {

std::optional<KernelRoute> FibSync::desired(const Prefix& prefix, const rib::Entry* e) {
  if (!e) return std::nullopt;
  KernelRoute r{prefix, {}};
  for (const auto& p : e->paths) {
    if (!(p.best || p.multipath) || p.peer == rib::kLocal || !p.attrs->next_hop) continue;
    // A next hop of the other family (RFC 8950) needs `via` routes; not offered yet.
    if (p.attrs->next_hop->is_v4() != prefix.address().is_v4()) continue;
    r.next_hops.push_back(*p.attrs->next_hop);
  }
  if (r.next_hops.empty()) return std::nullopt;
  std::sort(r.next_hops.begin(), r.next_hops.end());
  r.next_hops.erase(std::unique(r.next_hops.begin(), r.next_hops.end()), r.next_hops.end());
  return r;
}

void FibSync::on_change(const Prefix& prefix, const rib::Entry* e) {
  auto want = desired(prefix, e);
  auto it = installed_.find(prefix);
  if (!want) {
    if (it == installed_.end()) return;
    installed_.erase(it);
    if (auto err = writer_.remove(prefix); !err.empty()) fail("remove", prefix, err);
    return;
  }
  if (it != installed_.end() && it->second == *want) return;
  if (auto err = writer_.install(*want); !err.empty()) {
    // Forget it so the next change retries rather than assuming the old route is there.
    if (it != installed_.end()) installed_.erase(it);
    fail("install", prefix, err);
    return;
  }
  installed_[prefix] = std::move(*want);
}

void FibSync::clear() {
  for (const auto& [prefix, r] : installed_)
    if (auto err = writer_.remove(prefix); !err.empty()) fail("remove", prefix, err);
  installed_.clear();
}

void FibSync::fail(const std::string& what, const Prefix& p, const std::string& why) {
  ++failures_;
  if (on_error) on_error("kernel route " + what + " " + p.to_string() + ": " + why);
}

}  // namespace anycastd::fib
