// run_in_child_process: how the child ended, read back exactly; the caller's process untouched.
#include "deepmr/common/child_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace deepmr {
namespace {

using namespace std::chrono_literals;

TEST(ChildProcess, ReturnsTheBodysExitStatus) {
  const auto end = run_in_child_process([](std::string&) { return 7; }, 10s);
  EXPECT_EQ(end.kind, ChildEnd::Kind::exited);
  EXPECT_EQ(end.code, 7);
  EXPECT_EQ(run_in_child_process([](std::string&) { return 0; }, 10s).code, 0);
}

TEST(ChildProcess, ItsMessageComesBack) {
  const auto end = run_in_child_process(
      [](std::string& message) {
        message = "file.pt: not a model";
        return 3;
      },
      10s);
  EXPECT_EQ(end.kind, ChildEnd::Kind::exited);
  EXPECT_EQ(end.code, 3);
  EXPECT_EQ(end.message, "file.pt: not a model");
  const auto long_one = run_in_child_process(
      [](std::string& message) {
        message.assign(100000, 'x');
        return 0;
      },
      10s);
  EXPECT_EQ(long_one.message, std::string(4096, 'x'));  // cut, never a blocked child
  EXPECT_EQ(run_in_child_process([](std::string&) { return 0; }, 10s).message, "");
}

TEST(ChildProcess, AnExceptionEndsItWith125) {
  const auto end = run_in_child_process([](std::string&) -> int { throw std::runtime_error("no"); }, 10s);
  EXPECT_EQ(end.kind, ChildEnd::Kind::exited);
  EXPECT_EQ(end.code, 125);
}

TEST(ChildProcess, ACrashEndsTheChildAloneAndNamesTheSignal) {
  const auto end = run_in_child_process(
      [](std::string&) {
        ::raise(SIGSEGV);
        return 0;
      },
      10s);
  ASSERT_EQ(end.kind, ChildEnd::Kind::signalled);
  EXPECT_EQ(end.code, SIGSEGV);
  EXPECT_TRUE(end.crashed());
  EXPECT_EQ(signal_text(end.code), "SIGSEGV (Segmentation fault)");
  const auto aborted = run_in_child_process(
      [](std::string&) {
        std::abort();
        return 0;
      },
      10s);
  EXPECT_EQ(aborted.kind, ChildEnd::Kind::signalled);
  EXPECT_EQ(aborted.code, SIGABRT);
}

extern "C" void return_from_fault(int) {}

TEST(ChildProcess, TheParentsCrashHandlerIsNotTheChilds) {
  // A handler that would let the child go on (as a fuzzer's crash report takes over) is reset: the
  // parent still sees the crash.
  struct sigaction previous {};
  struct sigaction carry_on {};
  carry_on.sa_handler = return_from_fault;
  ::sigaction(SIGBUS, &carry_on, &previous);
  const auto end = run_in_child_process(
      [](std::string&) {
        ::raise(SIGBUS);
        return 0;
      },
      10s);
  ::sigaction(SIGBUS, &previous, nullptr);
  EXPECT_EQ(end.kind, ChildEnd::Kind::signalled);
  EXPECT_EQ(end.code, SIGBUS);
  EXPECT_TRUE(end.crashed());
}

TEST(ChildProcess, AStopRequestIsTheParentsToHonour) {
  // mpirun signals a rank's process group: the child finishes, the parent sees the request.
  const auto end = run_in_child_process(
      [](std::string&) {
        ::raise(SIGTERM);
        ::raise(SIGINT);
        ::raise(SIGUSR1);
        return 3;
      },
      10s);
  EXPECT_EQ(end.kind, ChildEnd::Kind::exited);
  EXPECT_EQ(end.code, 3);
}

TEST(ChildProcess, AKillFromOutsideIsNotACrash) {
  const auto end = run_in_child_process(
      [](std::string&) {
        ::raise(SIGKILL);
        return 0;
      },
      10s);
  EXPECT_EQ(end.kind, ChildEnd::Kind::signalled);
  EXPECT_EQ(end.code, SIGKILL);
  EXPECT_FALSE(end.crashed());
  EXPECT_FALSE(run_in_child_process([](std::string&) { return 1; }, 10s).crashed());
}

TEST(ChildProcess, OneThatRunsPastTheLimitIsKilled) {
  const auto start = std::chrono::steady_clock::now();
  const auto end = run_in_child_process(
      [](std::string&) {
        std::this_thread::sleep_for(60s);
        return 0;
      },
      200ms);
  EXPECT_EQ(end.kind, ChildEnd::Kind::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST(ChildProcess, ItsOutputGoesNowhere) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const auto end = run_in_child_process(
      [](std::string&) {
        std::fputs("child's stdout\n", stdout);
        std::fputs("child's stderr\n", stderr);
        std::fflush(nullptr);
        return 0;
      },
      10s);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(end.code, 0);
}

TEST(ChildProcess, SignalsWithoutANameAreNumbered) {
  EXPECT_EQ(signal_text(SIGBUS), "SIGBUS (Bus error)");
  EXPECT_EQ(signal_text(12345), "signal 12345");
}

}  // namespace
}  // namespace deepmr
