#pragma once
// The keys of `deepmr run` (and `deepmr plan`) config files (docs/config.md), read into the run
// layer's plain RunConfig. One description serves both commands, so a run config is always a valid
// plan config and unknown keys are errors in both.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "deepmr/app/model_options.hpp"
#include "deepmr/app/options.hpp"
#include "deepmr/model/targets.hpp"
#include "deepmr/run/run_config.hpp"

namespace deepmr::app {

using run::RunConfig;


// Adds every key of a run config (section-qualified names, e.g. "analysis.mc-samples").
void describe_run_options(po::options_description& options);
// Reads and checks the [analysis] and [run] keys; UsageError naming the key otherwise. The model
// ([model] keys, ModelKeys::run_config()) and regions ([regions], read_region_options) are read by
// their own functions.
RunConfig read_run_config(const po::variables_map& values);

using model::outputs_matching;

// Every key that shapes a run's results, with its effective value: what a resume must match.
// Operational keys (threads, device placement, batch sizes, progress, the store path) are left out.
std::map<std::string, std::string> result_keys(const po::variables_map& values);

}  // namespace deepmr::app
