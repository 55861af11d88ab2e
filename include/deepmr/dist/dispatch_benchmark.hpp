#pragma once
// The ceiling of the distributed loop (`deepmr bench dispatch`, docs/scaling.md): how fast one
// coordinator hands out and collects regions whose computation costs nothing.

#include <cstdint>

#include "deepmr/dist/communicator.hpp"

namespace deepmr::dist {

struct DispatchBenchmark {
  std::int64_t regions = 200000;
  int units_per_region = 1;
  std::int64_t dispatch_batch = 16;
  int repeats = 3;
};

// Collective. The median over `repeats` of the seconds the work loop takes for all regions.
// UsageError for a setting below 1; InternalError when units go missing.
double time_dispatch(const Communicator& world, const DispatchBenchmark& benchmark);

}  // namespace deepmr::dist
