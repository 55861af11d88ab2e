#include "deepmr/app/bench_dispatch.hpp"

#include <algorithm>
#include <iostream>

#include "deepmr/app/table.hpp"
#include "deepmr/dist/dispatch_benchmark.hpp"

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
  dist::DispatchBenchmark b;
  b.regions = v["regions"].as<std::int64_t>();
  b.units_per_region = v["units-per-region"].as<int>();
  b.repeats = v["repeats"].as<int>();
  b.dispatch_batch = v["dispatch-batch"].as<std::int64_t>();
  const auto format = parse_table_format(v["format"].as<std::string>());
  const double median = dist::time_dispatch(world, b);
  if (world.is_root()) {
    const long long regions = b.regions, units = regions * b.units_per_region;
    Table table({"ranks", "workers", "regions", "units", "dispatch_batch", "seconds", "regions_per_second",
                 "units_per_second", "microseconds_per_region"});
    table.add_row();
    table.set("ranks", world.size());
    table.set("workers", std::max(1, world.size() - 1));
    table.set("regions", regions);
    table.set("units", units);
    table.set("dispatch_batch", static_cast<long long>(b.dispatch_batch));
    table.set("seconds", median);
    table.set("regions_per_second", regions / median);
    table.set("units_per_second", units / median);
    table.set("microseconds_per_region", 1e6 * median / regions);
    table.write(std::cout, format);
  }
  return 0;
}

}  // namespace deepmr::app
