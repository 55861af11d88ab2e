#pragma once
// The collective Deep MR run (ARCHITECTURE.md section 3), from a prepared RunSetup to the assembled
// store: every rank checks that it planned what rank 0 planned, binds its devices and threads,
// rank 0 opens the journal (fresh or resumed), the coordinator hands out regions to the region
// pipelines of the workers, and all ranks assemble the store with the meta-analysis. Every step
// agrees on failure (dist/collective_step.hpp): an error on any rank ends every rank with the same
// AgreedFailure, never a hang. What is printed, and how, is the caller's (app/commands/run).

#include <cstdint>
#include <functional>
#include <string>

#include "deepmr/dist/collective_step.hpp"
#include "deepmr/dist/communicator.hpp"
#include "deepmr/dist/work_loop.hpp"
#include "deepmr/run/run_setup.hpp"
#include "deepmr/run/store_assembly.hpp"
#include "deepmr/store/run_journal.hpp"

namespace deepmr::run {

struct RunRequest {
  store::JournalStart start = store::JournalStart::fresh;
  bool threads_given = false;  // run.threads was set: keep setup.model.threads
  int pinned_gpu = -1;         // run.device = cuda:K pins GPUs K, K+1, ... (-1: bind per node)
  std::function<bool()> stop_requested;  // a stop signal arrived on this rank
};

// What rank 0 knows once the main loop is about to start.
struct RunStart {
  std::uint64_t units_done = 0, units_total = 0, regions_pending = 0;
  int workers = 1;
  int threads = 1;           // per worker
  std::string compute;       // "kernels avx512", "torch"
};

struct RunObserver {
  std::function<void(const RunStart&)> started;                               // rank 0
  std::function<void(const dist::Scheduler&, double elapsed_seconds)> progress;  // rank 0
  std::function<void(const std::string&)> warning;                             // rank 0: one line
};

struct RunOutcome {
  dist::WorkLoopOutcome loop;  // stopped_early is the same on every rank
  AssemblyOutcome assembly;    // rank 0
  double loop_seconds = 0;
  std::int64_t attempt = 0;
};

// Collective over `world`. `setup` must be the same on every rank (prepared from the same config);
// its thread count is set here unless request.threads_given. Throws dist::AgreedFailure on every
// rank when any rank fails; a stop request ends with outcome.loop.stopped_early and a partial store.
RunOutcome run_deep_mr(const dist::Communicator& world, RunSetup& setup, const RunRequest& request,
                       const RunObserver& observer);

}  // namespace deepmr::run
