#include "deepmr/dist/dispatch_benchmark.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "deepmr/common/error.hpp"
#include "deepmr/dist/work_loop.hpp"

namespace deepmr::dist {

double time_dispatch(const Communicator& world, const DispatchBenchmark& b) {
  if (b.regions < 1 || b.units_per_region < 1 || b.dispatch_batch < 1 || b.repeats < 1)
    throw UsageError("bench dispatch: regions, units-per-region, dispatch-batch and repeats must be at least 1");
  std::vector<double> seconds;
  for (int r = 0; r < b.repeats; ++r) {
    std::vector<std::uint64_t> todo(static_cast<std::size_t>(b.regions));
    for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
    Scheduler scheduler(todo, std::vector<std::uint32_t>(todo.size(), static_cast<std::uint32_t>(b.units_per_region)),
                        std::max(1, world.size() - 1), static_cast<std::uint64_t>(b.dispatch_batch));
    WorkLoopHooks hooks;
    hooks.compute = [](std::uint64_t region) { return RegionReport{region, false, 0, 0, 0}; };
    hooks.stop_requested = [] { return false; };
    world.barrier();
    const auto start = std::chrono::steady_clock::now();
    const auto outcome = run_work_loop(world, scheduler, hooks);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (outcome.failure) throw Error(outcome.failure->code, outcome.failure->message);
    const auto expected = static_cast<std::uint64_t>(b.regions) * static_cast<std::uint64_t>(b.units_per_region);
    if (world.is_root() && outcome.units_done != expected)
      throw InternalError("bench dispatch: " + std::to_string(outcome.units_done) + " units done of " +
                          std::to_string(expected));
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

}  // namespace deepmr::dist
