#pragma once
// `deepmr bench dispatch` (under mpirun): how many work units per second one coordinator hands
// out and collects when computing a unit costs nothing: the ceiling of the distributed loop
// (docs/scaling.md).

#include "deepmr/app/options.hpp"

namespace deepmr::app {

void describe_dispatch_benchmark(po::options_description& options);
// Collective; rank 0 prints the table. Returns the exit status.
int run_dispatch_benchmark(const po::variables_map& values);

}  // namespace deepmr::app
