#include "deepmr/dist/scheduler.hpp"

#include <algorithm>

#include "deepmr/common/error.hpp"

namespace deepmr::dist {

Scheduler::Scheduler(std::vector<std::uint64_t> todo, std::vector<std::uint32_t> units_per_region, int workers,
                     std::uint64_t max_batch)
    : units_per_region_(std::move(units_per_region)), workers_(std::max(1, workers)),
      max_batch_(std::max<std::uint64_t>(1, max_batch)) {
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  for (auto region : todo) {
    if (region >= units_per_region_.size()) throw InternalError("scheduler: unknown region " + std::to_string(region));
    units_total_ += units_per_region_[region];
  }
  // Units already done before this attempt still count toward the run's total.
  std::uint64_t all_units = 0;
  for (auto n : units_per_region_) all_units += n;
  units_done_ = all_units - units_total_;
  units_total_ = all_units;
  regions_total_ = units_per_region_.size();
  regions_done_ = regions_total_ - todo.size();
  todo_.assign(todo.begin(), todo.end());
}

std::vector<std::uint64_t> Scheduler::next_batch() {
  if (stopping_ || todo_.empty()) return {};
  const std::uint64_t share = todo_.size() / (2 * static_cast<std::uint64_t>(workers_));
  const std::uint64_t size = std::clamp<std::uint64_t>(share, 1, max_batch_);
  std::vector<std::uint64_t> batch(todo_.begin(), todo_.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(size, todo_.size())));
  todo_.erase(todo_.begin(), todo_.begin() + static_cast<std::ptrdiff_t>(batch.size()));
  in_flight_ += batch.size();
  return batch;
}

void Scheduler::complete(std::uint64_t region, bool failed) {
  if (region >= units_per_region_.size() || in_flight_ == 0)
    throw InternalError("scheduler: completion of region " + std::to_string(region) + " that was not handed out");
  --in_flight_;
  ++regions_done_;
  units_done_ += units_per_region_[region];
  if (failed) units_failed_ += units_per_region_[region];
}

}  // namespace deepmr::dist
