#include "deepmr/app/exit_status.hpp"

#include <iostream>

namespace deepmr::app {

int report_failure(const std::string& command, const Failure& failure) {
  const std::string prefix = command.empty() ? "deepmr" : "deepmr " + command;
  const char* kind = failure.code == ExitCode::resumable ? "stopped" : "error";
  std::cerr << prefix << ": " << kind << ": " << one_line(failure.message) << std::endl;
  return static_cast<int>(failure.code);
}

int report_failure(const std::string& command, const std::exception_ptr& error) {
  return report_failure(command, failure_of(error));
}

int report_failure(const std::string& command, const dist::RankFailure& failure, const dist::Communicator& comm) {
  const std::string rank = comm.size() > 1 && failure.rank > 0 ? " (rank " + std::to_string(failure.rank) + ")" : "";
  if (comm.is_root()) report_failure(command, Failure{failure.code, one_line(failure.message) + rank});
  return static_cast<int>(failure.code);
}

}  // namespace deepmr::app
