#pragma once
// How a command ends on an error: "deepmr <command>: error: <message>" (one line) on stderr and the
// documented exit status (docs/cli.md). The mapping itself is common/failure.hpp's.

#include <exception>
#include <string>

#include "deepmr/common/failure.hpp"
#include "deepmr/dist/communicator.hpp"

namespace deepmr::app {

using deepmr::one_line;

// Prints the failure of `error` and returns its exit status.
int report_failure(const std::string& command, const std::exception_ptr& error);
// Prints an already mapped failure (e.g. one every rank agreed on) and returns its exit status.
int report_failure(const std::string& command, const Failure& failure);
// A failure every rank of `comm` agreed on: rank 0 prints it (naming the failing rank when it is
// not rank 0); every rank returns its exit status.
int report_failure(const std::string& command, const dist::RankFailure& failure, const dist::Communicator& comm);

}  // namespace deepmr::app
