#pragma once
// Code run in a forked child process, so that a crash inside a library deepmr does not own (a
// signal, not an exception: LibTorch's TorchScript importer on a damaged model file) ends the child
// alone and the caller can report it as one line with its exit status.

#include <chrono>
#include <functional>
#include <string>

namespace deepmr {

struct ChildEnd {
  enum class Kind {
    not_started,  // fork failed (no memory or process slots): the caller goes on without the check
    exited,       // `code` is the child's exit status
    signalled,    // `code` is the signal that ended it
    timed_out,    // it ran past the limit and was killed
  };
  Kind kind = Kind::not_started;
  int code = 0;
  std::string message;  // what body put in its message (at most 4 KiB), for an exited child

  // Ended by a fault of its own (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP), not
  // killed from outside (SIGKILL by the out-of-memory killer, a launcher's kill of the job).
  bool crashed() const;
};

// Runs `body` in a child process with stdout and stderr on /dev/null, the default action for
// fault signals and stop requests ignored (SIGTERM, SIGINT, SIGUSR1, SIGHUP: mpirun signals a
// rank's whole process group; the parent honours them), and waits at most `limit` for it. The child ends with body's return value, or 125
// when body throws; it never returns into the caller's code (no atexit handlers, no MPI, no HDF5).
// What body writes to its `message` argument comes back in ChildEnd::message (through a pipe).
// fork copies the calling thread alone: body must not need the parent's other threads or locks
// they may hold (reading a file into memory is fine; MPI, HDF5 or a thread pool are not).
ChildEnd run_in_child_process(const std::function<int(std::string& message)>& body, std::chrono::milliseconds limit);

// "SIGSEGV (Segmentation fault)" for messages; "signal N" when the number has no name.
std::string signal_text(int signal);

}  // namespace deepmr
