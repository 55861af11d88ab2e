#pragma once
// SIGTERM and SIGUSR1 (SLURM's warning signal) ask a run to stop early: hand out no more work,
// keep everything computed, assemble the store and exit with status 75 (resumable).

namespace deepmr::app {

void install_stop_handlers();
bool stop_requested();
// The signal that asked for the stop (0 when none).
int stop_signal();

}  // namespace deepmr::app
