#include "deepmr/common/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEEPMR_CHILD_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define DEEPMR_CHILD_UNDER_ASAN 1
#endif
#ifdef DEEPMR_CHILD_UNDER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace deepmr {

namespace {

constexpr std::size_t kMessageBytes = 4096;  // at most PIPE_BUF: one write that never blocks

[[noreturn]] void run_child(const std::function<int(std::string&)>& body, int report) {
  // The parent's handlers (a fuzzer's crash report) are not the child's: a crash must end it by
  // the signal, which is what the parent reads. A stop request is the parent's to honour.
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP}) ::signal(s, SIG_DFL);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) ::signal(s, SIG_IGN);
#ifdef DEEPMR_CHILD_UNDER_ASAN
  // A fuzzer's death callback would save the input as the parent's crash.
  __sanitizer_set_death_callback(nullptr);
#endif
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  int code = 125;
  std::string message;
  try {
    code = body(message);
  } catch (...) {
  }
  if (!message.empty()) {
    const auto n = std::min(message.size(), kMessageBytes);
    if (::write(report, message.data(), n) < 0) {
    }
  }
  ::_exit(code);
}

}  // namespace

ChildEnd run_in_child_process(const std::function<int(std::string&)>& body, std::chrono::milliseconds limit) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(report[0]);
    ::close(report[1]);
    return {};
  }
  if (pid == 0) {
    ::close(report[0]);
    run_child(body, report[1]);
  }
  ::close(report[1]);
  // The child's one short write is in the pipe by the time it has exited: read it then.
  auto read_message = [&] {
    std::string message;
    char buffer[kMessageBytes];
    ssize_t n = 0;
    while ((n = ::read(report[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) message.append(buffer, static_cast<std::size_t>(n));
    ::close(report[0]);
    return message;
  };

  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFSIGNALED(status)) {
        ::close(report[0]);
        return {ChildEnd::Kind::signalled, WTERMSIG(status), {}};
      }
      return {ChildEnd::Kind::exited, WEXITSTATUS(status), read_message()};
    }
    if (done < 0 && errno != EINTR) {  // reaped elsewhere (a SIGCHLD handler): no verdict
      ::close(report[0]);
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      ::close(report[0]);
      return {ChildEnd::Kind::timed_out, 0, {}};
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(50000));
  }
}

bool ChildEnd::crashed() const {
  if (kind != Kind::signalled) return false;
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP})
    if (code == s) return true;
  return false;
}

std::string signal_text(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  const char* description = ::sigdescr_np(signal);
  if (!abbreviation) return "signal " + std::to_string(signal);
  std::string text = std::string("SIG") + abbreviation;
  if (description) text += std::string(" (") + description + ")";
  return text;
}

}  // namespace deepmr
