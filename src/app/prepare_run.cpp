#include "deepmr/app/prepare_run.hpp"

#include "deepmr/app/region_options.hpp"
#include "deepmr/app/run_config.hpp"
#include "deepmr/app/version.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/run/plan_run.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {

RunSetup prepare_run(const ParsedOptions& options) {
  RunSetup setup;
  const auto& values = options.values;
  setup.provenance.config_text = options.config_text;
  setup.provenance.config_path = options.config_path;
  setup.provenance.versions = version_report();
  setup.provenance.result_keys = result_keys(values);
  setup.config = read_run_config(values);
  setup.model = load_model_choice(values, ModelKeys::run_config());
  const auto& stack = *setup.model.stack;

  if (stack.dropout_layers().empty())
    throw ModelError(stack.source + ": the model has no dropout layer, so Monte Carlo dropout cannot give the "
                     "standard errors MR needs (export the model with its dropout layers)");
  setup.outcome_output = resolve_output_list(setup.model, {setup.config.outcome}).front();
  std::vector<std::string> pattern_exposures;
  if (!setup.config.exposure_pattern.empty())
    pattern_exposures = outputs_matching(setup.config.exposure_pattern, setup.model.target_names,
                                         setup.outcome_output, "analysis.exposure-pattern");

  setup.plan_spec = read_region_options(values, pattern_exposures);
  if (!pattern_exposures.empty() && setup.plan_spec.source == genome::RegionSource::peaks)
    throw UsageError("option 'analysis.exposure-pattern' needs regions.source = sweep or sequences: with peaks, "
                     "each exposure needs its own 'peaks = NAME=FILE' line");
  if (setup.config.store_effects && setup.plan_spec.n_policy != genome::NPolicy::skip)
    throw UsageError("option 'run.store-effects' needs regions.n-policy = skip: a window with N has more than 3L "
                     "mutants and does not fit the effects table");
  setup.plan_spec.seed = setup.config.seed;
  setup.plan_spec.window_length = static_cast<std::uint64_t>(stack.options.input_length);
  run::plan_run(setup);
  return setup;
}

}  // namespace deepmr::app
