#include "health/exec_probe.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>

#include "runtime/scoped_posts.hpp"

extern char** environ;

namespace anycastd::health {
namespace {

class ExecProbe : public Probe {
 public:
  ExecProbe(Loop& loop, const CheckConfig& cfg) : loop_(loop), cfg_(cfg) {}
  ~ExecProbe() override { cancel(); }

  void start(std::function<void(CheckResult)> done) override {
    cancel();
    std::vector<char*> argv;
    for (auto& a : cfg_.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    // Our sockets are not close-on-exec: a check command that hangs would otherwise hold
    // BGP sessions open after anycastd dies, and the peers would keep the VIP.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    t0_ = loop_.now();
    int rc = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = 0;
      auto err = std::string("cannot run ") + cfg_.argv[0] + ": " + std::strerror(rc);
      posts_.post([done, err] { done(CheckResult::fail(Failure::error, err)); });
      return;
    }
    done_ = std::move(done);
    poll(std::chrono::milliseconds(1));
  }

  void cancel() override {
    loop_.cancel(timer_);
    posts_.cancel_all();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = 0;
    done_ = nullptr;
  }

 private:
  // Reaps without SIGCHLD (which belongs to the whole process): polls at a period that
  // grows to 20 ms, cheap next to starting a process.
  void poll(Duration wait) {
    timer_ = loop_.schedule(wait, [this, wait] {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == 0) return poll(std::min<Duration>(wait * 2, std::chrono::milliseconds(20)));
      pid_ = 0;
      auto done = std::move(done_);
      done_ = nullptr;
      Duration took = loop_.now() - t0_;
      if (r < 0) return done(CheckResult::fail(Failure::error, std::strerror(errno), took));
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return done(CheckResult::success(took));
      std::string why = WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                          : "killed by signal " + std::to_string(WTERMSIG(status));
      done(CheckResult::fail(Failure::exit_code, why, took));
    });
  }

  Loop& loop_;
  CheckConfig cfg_;
  pid_t pid_ = 0;
  TimerId timer_ = 0;
  TimePoint t0_{};
  std::function<void(CheckResult)> done_;
  ScopedPosts posts_{loop_};  // a spawn's failure, answered on the next turn
};

}  // namespace

std::unique_ptr<Probe> make_exec_probe(Loop& loop, const CheckConfig& cfg) {
  return std::make_unique<ExecProbe>(loop, cfg);
}

}  // namespace anycastd::health
