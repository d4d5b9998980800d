#pragma once
// Keeps a kernel routing table equal to the Loc-RIB's best paths (and their ECMP siblings).
// Sans-I/O: the RIB reports each changed prefix, FibSync works out the route the kernel
// should hold and asks a FibWriter to install or remove it only when that differs from what
// is installed. Locally originated routes (VIPs) are not installed: the NVA owns them.
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/hash.hpp"
#include "rib/rib.hpp"

namespace anycastd::fib {

struct KernelRoute {
  Prefix prefix;
  std::vector<IpAddress> next_hops;  // sorted, distinct, same family as the prefix
  bool operator==(const KernelRoute&) const = default;
};

class FibWriter {
 public:
  virtual ~FibWriter() = default;
  // Empty string on success, else the reason (the kernel's errno text).
  virtual std::string install(const KernelRoute& r) = 0;
  virtual std::string remove(const Prefix& p) = 0;
};

class FibSync {
 public:
  explicit FibSync(FibWriter& w) : writer_(w) {}

  // Connect to Rib::on_change.
  void on_change(const Prefix& prefix, const rib::Entry* e);
  // Removes every route this FibSync installed (shutdown).
  void clear();

  size_t installed() const { return installed_.size(); }
  const std::unordered_map<Prefix, KernelRoute>& routes() const { return installed_; }
  uint64_t failures() const { return failures_; }
  std::function<void(const std::string&)> on_error;

  // The route the kernel should hold for an entry, or none (nothing to install).
  static std::optional<KernelRoute> desired(const Prefix& prefix, const rib::Entry* e);

 private:
  void fail(const std::string& what, const Prefix& p, const std::string& why);

  FibWriter& writer_;
  std::unordered_map<Prefix, KernelRoute> installed_;
  uint64_t failures_ = 0;
};

}  // namespace anycastd::fib
