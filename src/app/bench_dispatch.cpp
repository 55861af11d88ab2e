#include "deepmr/app/bench_dispatch.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/dist/communicator.hpp"
#include "deepmr/dist/work_loop.hpp"

namespace deepmr::app {

void describe_dispatch_benchmark(po::options_description& options) {
  options.add_options()
      ("regions", po::value<std::int64_t>()->default_value(200000)->value_name("R"),
       "dispatch: zero-cost regions to hand out")
      ("units-per-region", po::value<int>()->default_value(1)->value_name("U"), "dispatch: units of each region")
      ("dispatch-batch", po::value<std::int64_t>()->default_value(16)->value_name("B"),
       "dispatch: most regions per work message (as run.dispatch-batch)")
      ("repeats", po::value<int>()->default_value(3)->value_name("K"), "dispatch: timed repetitions (median)");
}

int run_dispatch_benchmark(const po::variables_map& v) {
  const auto world = dist::Communicator::world();
  const auto regions = v["regions"].as<std::int64_t>();
  const int units = v["units-per-region"].as<int>(), repeats = v["repeats"].as<int>();
  const auto batch = v["dispatch-batch"].as<std::int64_t>();
  if (regions < 1 || units < 1 || batch < 1 || repeats < 1)
    throw UsageError("bench dispatch: regions, units-per-region, dispatch-batch and repeats must be at least 1");
  const auto format = parse_table_format(v["format"].as<std::string>());

  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    std::vector<std::uint64_t> todo(static_cast<std::size_t>(regions));
    for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
    dist::Scheduler scheduler(todo, std::vector<std::uint32_t>(todo.size(), static_cast<std::uint32_t>(units)),
                              std::max(1, world.size() - 1), static_cast<std::uint64_t>(batch));
    dist::WorkLoopHooks hooks;
    hooks.compute = [](std::uint64_t region) { return dist::RegionReport{region, false, 0, 0, 0}; };
    hooks.stop_requested = [] { return false; };
    world.barrier();
    const auto start = std::chrono::steady_clock::now();
    const auto outcome = dist::run_work_loop(world, scheduler, hooks);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (outcome.failure) throw Error(outcome.failure->code, outcome.failure->message);
    if (world.is_root() && outcome.units_done != static_cast<std::uint64_t>(regions) * units)
      throw InternalError("bench dispatch: " + std::to_string(outcome.units_done) + " units done of " +
                          std::to_string(regions * units));
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  if (world.is_root()) {
    Table table({"ranks", "workers", "regions", "units", "dispatch_batch", "seconds", "regions_per_second",
                 "units_per_second", "microseconds_per_region"});
    table.add_row();
    table.set("ranks", world.size());
    table.set("workers", std::max(1, world.size() - 1));
    table.set("regions", static_cast<long long>(regions));
    table.set("units", static_cast<long long>(regions) * units);
    table.set("dispatch_batch", static_cast<long long>(batch));
    table.set("seconds", median);
    table.set("regions_per_second", regions / median);
    table.set("units_per_second", regions * units / median);
    table.set("microseconds_per_region", 1e6 * median / regions);
    table.write(std::cout, format);
  }
  return 0;
}

}  // namespace deepmr::app
