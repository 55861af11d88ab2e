#pragma once
// The distributed main loop (ARCHITECTURE.md section 3). Rank 0 coordinates: it answers work
// requests with batches of region ids from a Scheduler and counts a region done only when the
// worker reports it durable. Ranks 1..P-1 work: request, compute each region (the caller's
// callback computes and journals), make what was computed durable (one group commit for the
// regions of a request), report, repeat. With P = 1 one process does both.
//
// Messages carry region ids and small status records, never sequences or tensors. A failure on any
// rank stops the hand-out and reaches every rank (agree_on_failure); a stop request (SIGTERM or
// SIGUSR1 on any rank) stops the hand-out, lets in-flight regions finish or abandon them, and ends
// with every rank agreeing that the run stopped early.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "deepmr/dist/communicator.hpp"
#include "deepmr/dist/scheduler.hpp"

namespace deepmr::dist {

// What computing one region cost, as the worker measured it.
struct RegionReport {
  std::uint64_t region = 0;
  bool failed = false;   // its units failed (e.g. the model gave NaN); the run goes on
  double seconds_ism = 0, seconds_mr = 0, seconds_io = 0;
};

struct RankTiming {
  int rank = 0;
  std::uint64_t regions = 0;
  double seconds_ism = 0, seconds_mr = 0, seconds_io = 0, seconds_wait = 0, seconds_total = 0;
};

struct WorkLoopHooks {
  // Computes, journals and reports one region. Throw StoppedEarly when interrupted by a stop
  // request (the region then stays pending); any other exception is a failure.
  std::function<RegionReport(std::uint64_t region)> compute;
  // Completes what compute() left running (a region's MR fits, run while the next region
  // computes) and journals it, before make_durable; returns the seconds it waited (MR). Optional.
  std::function<double()> finish;
  // Makes every region computed so far durable, before the loop reports them done (group commit);
  // returns its seconds (journal I/O). Empty: compute() made each durable itself.
  std::function<double()> make_durable;
  // True once this process received a stop signal.
  std::function<bool()> stop_requested;
  // Rank 0, every `progress_seconds`: report progress.
  std::function<void(const Scheduler&, double elapsed_seconds)> progress;
  double progress_seconds = 30;
};

struct WorkLoopOutcome {
  bool stopped_early = false;          // the same on every rank
  std::optional<RankFailure> failure;  // the same on every rank
  std::vector<RankTiming> timings;     // rank 0: one per rank that worked
  std::uint64_t units_done = 0, units_failed = 0, units_total = 0;  // rank 0
};

// Collective. `scheduler` is used on rank 0 only (other ranks may pass any scheduler).
WorkLoopOutcome run_work_loop(const Communicator& comm, Scheduler& scheduler, const WorkLoopHooks& hooks);

}  // namespace deepmr::dist
