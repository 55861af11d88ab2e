#pragma once
// Typed errors of deepmr. Every layer throws one of these; the command line maps them, in one place
// (app/exit_status), to the exit codes users script against (docs/cli.md).

#include <stdexcept>
#include <string>

namespace deepmr {

enum class ExitCode : int {
  success = 0,
  internal = 1,   // a bug in deepmr: please report it
  usage = 2,      // command line or config file
  input = 3,      // input data: FASTA, BED, peaks, summary statistics, sequences
  model = 4,      // model file, targets, output names, shapes
  store = 5,      // the HDF5 store or the journal
  resumable = 75  // stopped early on request (SIGTERM/SIGUSR1); rerun with --resume
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

struct UsageError : Error {
  explicit UsageError(const std::string& m) : Error(ExitCode::usage, m) {}
};
struct InputError : Error {
  explicit InputError(const std::string& m) : Error(ExitCode::input, m) {}
};
struct ModelError : Error {
  explicit ModelError(const std::string& m) : Error(ExitCode::model, m) {}
};
struct StoreError : Error {
  explicit StoreError(const std::string& m) : Error(ExitCode::store, m) {}
};
struct InternalError : Error {
  explicit InternalError(const std::string& m) : Error(ExitCode::internal, m) {}
};
// Not a failure: the run stopped on request with everything computed so far made durable.
struct StoppedEarly : Error {
  explicit StoppedEarly(const std::string& m) : Error(ExitCode::resumable, m) {}
};

// "file:line: " prefix for messages about a place in an input file (line is 1-based; 0 = no line).
inline std::string at(const std::string& file, long line = 0) {
  return line > 0 ? file + ":" + std::to_string(line) + ": " : file + ": ";
}

}  // namespace deepmr
