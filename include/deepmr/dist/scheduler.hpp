#pragma once
// Which regions go to which worker, and how far the run is: the coordinator's bookkeeping, free of
// MPI so that it can be tested and benchmarked alone.
//
// Regions are handed out in increasing id order, in batches that shrink as the run nears its end
// (guided self-scheduling: remaining / (2 x workers), at most max_batch, at least 1), so that one
// coordinator serves many workers early and no worker sits on a long tail late.

#include <cstdint>
#include <deque>
#include <vector>

namespace deepmr::dist {

class Scheduler {
 public:
  // todo: region ids still to compute (any order; kept sorted); units_per_region[r]: units of region r.
  Scheduler(std::vector<std::uint64_t> todo, std::vector<std::uint32_t> units_per_region, int workers,
            std::uint64_t max_batch);

  // The next regions for a worker; empty when nothing is left or the run is stopping.
  std::vector<std::uint64_t> next_batch();
  // A region's results are durable: its units count as done.
  void complete(std::uint64_t region, bool failed);
  // Stop handing out work (a stop signal or a failure); in-flight regions may still complete.
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

  std::uint64_t regions_total() const { return regions_total_; }
  std::uint64_t regions_done() const { return regions_done_; }
  std::uint64_t units_total() const { return units_total_; }
  std::uint64_t units_done() const { return units_done_; }
  std::uint64_t units_failed() const { return units_failed_; }
  std::uint64_t regions_pending() const { return todo_.size(); }
  bool finished() const { return todo_.empty() && in_flight_ == 0; }

 private:
  std::deque<std::uint64_t> todo_;
  std::vector<std::uint32_t> units_per_region_;
  int workers_;
  std::uint64_t max_batch_;
  std::uint64_t regions_total_ = 0, regions_done_ = 0, in_flight_ = 0;
  std::uint64_t units_total_ = 0, units_done_ = 0, units_failed_ = 0;
  bool stopping_ = false;
};

}  // namespace deepmr::dist
