#include "health/exec_probe.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "runtime/asio/asio_loop.hpp"

using namespace anycastd;
using namespace anycastd::health;

namespace {

std::optional<CheckResult> run(std::vector<std::string> argv) {
  rt::AsioLoop loop;
  CheckConfig cfg;
  cfg.name = "x";
  cfg.type = CheckType::exec;
  cfg.argv = std::move(argv);
  auto probe = make_exec_probe(loop, cfg);
  std::optional<CheckResult> result;
  probe->start([&](CheckResult r) {
    result = r;
    loop.stop();
  });
  loop.schedule(std::chrono::seconds(10), [&] { loop.stop(); });
  loop.run();
  return result;
}

}  // namespace

TEST(ExecProbe, ExitCodeDecides) {
  auto ok = run({"true"});
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->ok);
  auto bad = run({"sh", "-c", "exit 3"});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->failure, Failure::exit_code);
  auto missing = run({"/nonexistent/check"});
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->ok);
}

// Regression: the command inherited the daemon's sockets, so a hanging check kept BGP
// sessions open after the daemon died.
TEST(ExecProbe, CommandInheritsNoDescriptorBeyondStdio) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // not close-on-exec, like asio's sockets
  auto r = run({"test", "-e", "/proc/self/fd/" + std::to_string(fds[1])});
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok) << "descriptor " << fds[1] << " reached the check command";
  EXPECT_EQ(r->failure, Failure::exit_code);
}

// A command that cannot start is answered on the loop's next turn; cancelled (or destroyed)
// before then, the probe must not call back, as for any other probe.
TEST(ExecProbe, CancelledBeforeASpawnFailureIsAnsweredCallsNothing) {
  rt::AsioLoop loop;
  CheckConfig cfg;
  cfg.name = "x";
  cfg.type = CheckType::exec;
  cfg.argv = {"/nonexistent/check"};
  int called = 0;
  auto probe = make_exec_probe(loop, cfg);
  probe->start([&](CheckResult) { ++called; });
  probe->cancel();
  auto destroyed = make_exec_probe(loop, cfg);
  destroyed->start([&](CheckResult) { ++called; });
  destroyed.reset();
  loop.schedule(std::chrono::milliseconds(50), [&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(called, 0);
}
