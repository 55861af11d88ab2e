#pragma once
// The last defence against a hang. A rank that failed waits in agree_on_failure for the others;
// if some of them are stuck in a collective call of a library that failed on this rank alone (a
// parallel HDF5 write that failed here, so HDF5's own barrier never completes there), that wait
// would last until the job's time limit. After kUnansweredFailureSeconds the failing rank reports
// its own error and ends the process with its exit status; mpirun then ends the others. Nothing
// computed is lost: the journal is durable.

#include <functional>

#include "deepmr/dist/communicator.hpp"

namespace deepmr::dist {

inline constexpr double kUnansweredFailureSeconds = 15;

// What an unanswered failure does: print it (one line, as the command prints errors) and end the
// process (std::_Exit with its code). app/main.cpp sets it; the default prints "deepmr: error:".
void set_unanswered_failure_handler(std::function<void(const RankFailure&)> handler);

// Runs the handler with `failure` unless disarmed within `seconds` (the agreement came through).
class FailureWatchdog {
 public:
  FailureWatchdog(RankFailure failure, double seconds);
  ~FailureWatchdog();  // disarms
  FailureWatchdog(const FailureWatchdog&) = delete;
  FailureWatchdog& operator=(const FailureWatchdog&) = delete;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace deepmr::dist
