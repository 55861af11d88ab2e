#pragma once
// Timing a mutagenesis engine on one window (`deepmr bench ism`, docs/performance.md): wall and CPU
// seconds, peak memory of the run alone, per-stage costs and the effects, so that engines can be
// compared on the same inputs in one process. Measurements only, never assertions.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deepmr/ism/engine.hpp"

namespace deepmr::ism {

struct EngineRun {
  std::string engine;        // the engine's name
  std::string device;        // the network's description
  double seconds = 0;        // wall clock
  double cpu_seconds = 0;    // user + system CPU of the process during the run
  double evaluations = 0;    // mutants x MC samples
  double peak_rss_mib = 0;   // peak resident memory during the run (of the process where it cannot reset)
  std::vector<model::StageCost> costs;
  Effects effects;
};

// Builds the network and the engine called `engine` (full, incremental, auto) and runs it once;
// `incremental`: the incremental engines' options (make_engine).
EngineRun time_engine(const std::string& engine, std::shared_ptr<const model::LayerStack> stack,
                      const std::vector<int>& outputs, const model::Device& device, model::Backend backend,
                      const std::string& window, const IsmOptions& options,
                      const model::IncrementalOptions& incremental = {});

// A window of `length` random bases (Philox, keyed by seed): the same on every machine.
std::string random_window(int length, std::uint64_t seed);

}  // namespace deepmr::ism
