#pragma once
// Hosts for the translation path's tests: a network namespace each, named after the test's
// process so that parallel runs never meet, addressed from 198.18.0.0/15, and deleted (with
// every interface in them) by the destructor. Needs root.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace anycastd::proxy::testing {

class Hosts {
 public:
  explicit Hosts(std::vector<std::string> roles, std::string prefix = "acd-nat")
      : roles_(std::move(roles)), prefix_(std::move(prefix)), tag_(std::to_string(::getpid())) {
    for (const auto& role : roles_) {
      made_ = sh("ip netns add " + name(role)) && sh("ip -n " + name(role) + " link set lo up");
      if (!made_) return;
      ++added_;
    }
  }
  ~Hosts() {
    for (size_t i = 0; i < added_; ++i) sh("ip netns del " + name(roles_[i]));
  }
  Hosts(const Hosts&) = delete;
  Hosts& operator=(const Hosts&) = delete;

  bool made() const { return made_; }
  std::string name(const std::string& role) const { return prefix_ + "-" + role + "-" + tag_; }

  // `ip` with `args` inside host `role` (`ip -n`), quiet; true if it succeeded.
  bool ip(const std::string& role, const std::string& args) const {
    return sh("ip -n " + name(role) + " " + args);
  }
  // Any command inside host `role`.
  bool exec(const std::string& role, const std::string& cmd) const {
    return sh("ip netns exec " + name(role) + " " + cmd);
  }

  // Runs `fn` on a thread of its own inside host `role`: the sockets and threads it makes
  // stay in that namespace.
  template <typename F>
  auto in(const std::string& role, F fn) const {
    std::optional<decltype(fn())> out;
    std::thread t([&] {
      int fd = ::open(("/run/netns/" + name(role)).c_str(), O_RDONLY | O_CLOEXEC);
      bool entered = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) ::close(fd);
      if (entered) out.emplace(fn());
    });
    t.join();
    return out;
  }

  static bool sh(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
  }

 private:
  std::vector<std::string> roles_;
  std::string prefix_, tag_;
  size_t added_ = 0;
  bool made_ = false;
};

}  // namespace anycastd::proxy::testing
