#pragma once
// A run's setup from its options (the command line and the config file), built the same way on
// every rank: the config keys, the model, the resolved outcome and exposures, and the plan.

#include "deepmr/app/options.hpp"
#include "deepmr/run/run_setup.hpp"

namespace deepmr::app {

using run::RunSetup;

// Reads the config, loads the model, resolves outputs and builds the plan. Deterministic: every
// rank gets the same setup. UsageError, InputError or ModelError naming the key or file.
RunSetup prepare_run(const ParsedOptions& options);

}  // namespace deepmr::app
