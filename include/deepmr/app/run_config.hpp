#pragma once
// The configuration of a Deep MR run: every key of `deepmr run` (and `deepmr plan`) config files
// (docs/config.md). One description serves both commands, so a run config is always a valid plan
// config and unknown keys are errors in both.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "deepmr/app/model_options.hpp"
#include "deepmr/app/options.hpp"
#include "deepmr/genome/plan_builder.hpp"
#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::app {

struct RunConfig {
  // [analysis]
  std::string outcome;                                          // output name or index
  std::vector<std::pair<std::string, std::string>> exposure_outputs;  // exposure name -> output (name or index)
  std::string exposure_pattern;                                 // regex over output names (sweep, sequences)
  std::uint64_t seed = 1;
  int mc_samples = 50;
  std::string engine = "auto";
  int batch = 64;
  std::vector<stats::MrMethod> methods;
  stats::MrOptions mr;
  stats::MetaOptions meta;
  // [regions] (window_length and exposures from the pattern are filled in by the run)
  // [run]
  std::string store = "deepmr.h5";
  bool store_effects = false;
  int gpus_per_worker = 1;
  std::uint64_t dispatch_batch = 16;
  double progress_seconds = 30;
};

// Adds every key of a run config (section-qualified names, e.g. "analysis.mc-samples").
void describe_run_options(po::options_description& options);
// Reads and checks the [analysis] and [run] keys; UsageError naming the key otherwise. The model
// ([model] keys, ModelKeys::run_config()) and regions ([regions], read_region_options) are read by
// their own functions.
RunConfig read_run_config(const po::variables_map& values);

// The outputs whose names match a regular expression, minus the outcome (exposure-pattern).
std::vector<std::string> outputs_matching(const std::string& pattern, const std::vector<std::string>& names,
                                          int outcome, const std::string& key);

// Every key that shapes a run's results, with its effective value: what a resume must match.
// Operational keys (threads, device placement, batch sizes, progress, the store path) are left out.
std::map<std::string, std::string> result_keys(const po::variables_map& values);

}  // namespace deepmr::app
