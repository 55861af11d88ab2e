#include "deepmr/app/prepare_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "deepmr/app/position_range.hpp"
#include "deepmr/app/region_options.hpp"
#include "deepmr/app/run_config.hpp"
#include "deepmr/app/version.hpp"
#include "deepmr/common/disk_space.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/run/plan_run.hpp"
#include "deepmr/model/model_choice.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {

namespace {

// The effects of a region take moment arrays of 3L x outputs doubles (mean, M2 and, with delta
// weights, one co-moment array per outcome) per state: a running merge, the current block and,
// with the jackknife, one leave-out merge per group and the current segment; memory does not grow
// with N. A run split over several devices (run.gpus-per-worker) keeps every block and segment to
// merge them in order: about N / 8 + G states. Refused up front when that cannot fit in memory.
void check_sample_memory(const RunSetup& setup) {
  const auto& c = setup.config;
  const double positions = c.positions.empty() ? setup.model.stack->options.input_length
                                               : static_cast<double>(c.positions.size());
  const double cells = 3 * positions * static_cast<double>(setup.network_outputs().size());
  const double arrays = 2.0 + (c.mr.ivw_weights == stats::IvwWeights::delta ? setup.outcome_outputs.size() : 0);
  const double groups = c.jackknife_groups > 1 ? c.jackknife_groups : 0;
  const double states = c.gpus_per_worker > 1 ? std::ceil(c.mc_samples / 8.0) + groups + c.gpus_per_worker
                                              : 2 + (groups > 0 ? groups + 1 : 0);
  const double bytes = cells * sizeof(double) * arrays * states;
  const double memory = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  if (memory > 0 && bytes > memory / 2)
    throw UsageError("option 'analysis.mc-samples' = " + std::to_string(c.mc_samples) + " needs about " +
                     byte_size_text(static_cast<std::uint64_t>(bytes)) + " per worker for one region's effects "
                     "(3L x outputs doubles per moment array and state), more than half of this node's " +
                     byte_size_text(static_cast<std::uint64_t>(memory)) + "; use fewer jackknife groups, one device "
                     "per worker (its memory does not grow with N), or fewer samples");
}

}  // namespace

RunSetup prepare_run(const ParsedOptions& options) {
  RunSetup setup;
  const auto& values = options.values;
  setup.provenance.config_text = options.config_text;
  setup.provenance.config_path = options.config_path;
  setup.provenance.versions = version_report();
  setup.provenance.result_keys = result_keys(values);
  setup.config = read_run_config(values);
  setup.model = load_model_choice(values, ModelKeys::run_config(), sequences_length(values));
  const auto& stack = *setup.model.stack;
  if (!setup.config.positions_text.empty())
    setup.config.positions = parse_position_range(setup.config.positions_text, stack.options.input_length, "analysis.positions");

  const bool ensemble = !setup.model.more_members.empty();
  if (ensemble) {
    // Sample n is member n mod K: K x N samples with MC dropout inside the members, else one each.
    setup.config.member_dropout = model::member_dropout(setup.model, true);
    setup.config.mc_samples = model::region_samples(setup.model, setup.config.mc_samples, true);
    // analysis.jackknife-groups as given, at most one group per sample of all members
    setup.config.jackknife_groups = std::min(values["analysis.jackknife-groups"].as<int>(), setup.config.mc_samples);
  }
  // One model's standard errors come from MC dropout; an ensemble's members disagree by themselves.
  if (!ensemble) {
    const auto dropout_rates = stack.dropout_rates();
    if (dropout_rates.empty())
      throw ModelError(stack.label() + ": the model has no dropout layer, so Monte Carlo dropout cannot give the "
                       "standard errors MR needs (export the model with its dropout layers, or give several "
                       "model.file lines: the members of a deep ensemble)");
    bool drops = false;
    for (double p : dropout_rates) drops = drops || p > 0;
    if (!drops)
      throw ModelError(stack.label() + ": every dropout layer has p = 0, so Monte Carlo dropout would give se = 0 "
                       "everywhere (export the model with the dropout rates it was trained with)");
  }
  const auto listed_outcomes = resolve_output_list(setup.model, setup.config.outcomes);
  for (std::size_t i = 0; i < listed_outcomes.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (listed_outcomes[i] == listed_outcomes[j])
        throw UsageError("option 'analysis.outcome' names output " + std::to_string(listed_outcomes[i]) + " twice ('" +
                         setup.config.outcomes[j] + "' and '" + setup.config.outcomes[i] + "')");
  std::vector<std::string> pattern_exposures;
  if (!setup.config.exposure_pattern.empty())
    pattern_exposures = outputs_matching(setup.config.exposure_pattern, setup.model.target_names, listed_outcomes,
                                         "analysis.exposure-pattern");

  setup.plan_spec = read_region_options(values, pattern_exposures);
  if (!pattern_exposures.empty() && setup.plan_spec.source == genome::RegionSource::peaks)
    throw UsageError("option 'analysis.exposure-pattern' needs regions.source = sweep or sequences: with peaks, "
                     "each exposure needs its own 'peaks = NAME=FILE' line");
  if (setup.config.store_effects && setup.plan_spec.n_policy != genome::NPolicy::skip)
    throw UsageError("option 'run.store-effects' needs regions.n-policy = skip: a window with N has more than 3L "
                     "mutants and does not fit the effects table");
  setup.plan_spec.seed = setup.config.seed;
  setup.plan_spec.window_length = static_cast<std::uint64_t>(stack.options.input_length);
  setup.outcome_outputs = listed_outcomes;
  run::plan_run(setup);
  // Before the journal exists: the workers' networks would refuse it later, leaving a journal that
  // a corrected run could not take over.
  model::check_strand_averaging(setup.model, setup.network_outputs());
  check_sample_memory(setup);
  return setup;
}

}  // namespace deepmr::app
