#pragma once
// The one mapping from an exception to what deepmr reports: a documented exit status and a
// one-line message (docs/cli.md). main, the collective steps of a run and the work loop all use it,
// so a given error ends the same way wherever it is raised.

#include <exception>
#include <string>

#include "deepmr/common/error.hpp"

namespace deepmr {

struct Failure {
  ExitCode code = ExitCode::internal;
  std::string message;  // one line, without the "deepmr <command>: error: " prefix
};

// deepmr's typed errors keep their code and message; bad_alloc is an out-of-memory failure with
// advice; any other exception is an internal error (please report it).
Failure failure_of(const std::exception_ptr& error);

// Replaces line breaks so that a message always stays on one line.
std::string one_line(std::string message);

}  // namespace deepmr
