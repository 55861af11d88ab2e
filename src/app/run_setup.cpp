#include "deepmr/app/run_setup.hpp"

#include <set>
#include <sstream>

#include "deepmr/app/region_options.hpp"
#include "deepmr/app/version.hpp"
#include "deepmr/common/build_info.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/common/sha256.hpp"
#include "deepmr/ism/mutants.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {

std::string plan_text(const genome::Plan& plan) {
  std::ostringstream out;
  genome::write_regions_bed(plan, out);
  genome::write_units_tsv(plan, out);
  return out.str();
}

RunSetup prepare_run(const ParsedOptions& options) {
  RunSetup setup;
  setup.options = options;
  const auto& values = options.values;
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
  setup.plan = make_plan(setup.plan_spec);

  // Each plan exposure is a model output: mapped by analysis.exposure, else its name is one.
  std::set<std::string> mapped;
  for (const auto& [name, output] : setup.config.exposure_outputs) mapped.insert(name);
  for (const auto& name : setup.plan.exposures()) {
    std::string output = name;
    for (const auto& [mapped_name, mapped_output] : setup.config.exposure_outputs)
      if (mapped_name == name) output = mapped_output;
    try {
      setup.exposure_outputs.push_back(resolve_output_list(setup.model, {output}).front());
    } catch (const ModelError& e) {
      throw ModelError("exposure '" + name + "': " + e.what() +
                       (output == name ? " (map it with 'analysis.exposure = " + name + "=OUTPUT')" : ""));
    }
    mapped.erase(name);
  }
  if (!mapped.empty())
    throw UsageError("option 'analysis.exposure' maps '" + *mapped.begin() + "', which is not an exposure of [regions]");
  setup.model_sha256 = sha256_file(stack.source);
  setup.plan_digest = sha256_hex(plan_text(setup.plan));
  return setup;
}

store::Manifest RunSetup::manifest() const {
  store::Manifest manifest;
  for (const auto& [key, value] : result_keys(options.values)) manifest.set(key, value);
  manifest.set("model.sha256", model_sha256);
  manifest.set("plan.sha256", plan_digest);
  manifest.set("run.backend(effective)", model.backend == model::Backend::kernels ? "kernels" : "torch");
  manifest.set("run.device(kind)", model.device.kind == model::Device::Kind::cpu ? "cpu" : "cuda");
  manifest.set("store.format_version", std::to_string(store::kStoreFormatVersion));
  return manifest;
}

store::StoreLayout RunSetup::store_layout() const {
  store::StoreLayout layout;
  for (auto method : config.methods) layout.methods.push_back(stats::mr_method_name(method));
  layout.outcome = output_name(outcome_output);
  layout.outcome_output = outcome_output;
  layout.exposures = plan.exposures();
  for (int output : exposure_outputs) layout.exposure_outputs.push_back(output);
  for (const auto& region : plan.regions()) {
    layout.region_chrom.push_back(region.is_window() ? plan.chromosomes()[region.chrom] : std::string("row"));
    layout.region_start.push_back(static_cast<std::int64_t>(region.start));
    layout.region_end.push_back(static_cast<std::int64_t>(region.end));
    layout.region_row.push_back(region.is_row() ? static_cast<std::int64_t>(region.row) : -1);
  }
  for (std::uint64_t u = 0; u < plan.unit_count(); ++u) {
    const auto unit = plan.unit(u);
    layout.unit_exposure.push_back(static_cast<std::int32_t>(unit.exposure));
    layout.unit_region.push_back(static_cast<std::int64_t>(unit.region));
  }
  if (config.store_effects) {
    // Mutants in deepmr's fixed order; positions and bases differ per region, so only the order is
    // stored: position p, then the 3 alternatives (per region: the bases other than its reference).
    const int length = model.stack->options.input_length;
    layout.mutants = static_cast<std::uint32_t>(3 * length);
    layout.window_length = static_cast<std::uint32_t>(length);
    for (int p = 0; p < length; ++p)
      for (int k = 0; k < 3; ++k) layout.mutant_position.push_back(p);
  }
  const auto& stack = *model.stack;
  layout.text_attributes = {
      {"deepmr_version", build::version},
      {"versions", version_report()},
      {"config", options.config_text},
      {"config_path", options.config_path},
      {"model", stack.source},
      {"model_sha256", model_sha256},
      {"plan_sha256", plan_digest},
      {"alphabet", stack.options.alphabet},
      {"engine", config.engine},
      {"backend", model.backend == model::Backend::kernels ? "kernels" : "torch"},
      {"tau2", stats::tau2_method_name(config.meta.tau2_method)},
      {"region_source", genome::to_string(plan.source())}};
  layout.int_attributes = {{"seed", static_cast<std::int64_t>(config.seed)},
                           {"mc_samples", config.mc_samples},
                           {"input_length", stack.options.input_length},
                           {"reverse_complement", stack.options.reverse_complement_average ? 1 : 0},
                           {"regions_total", static_cast<std::int64_t>(plan.region_count())},
                           {"units_total", static_cast<std::int64_t>(plan.unit_count())},
                           {"bootstrap", static_cast<std::int64_t>(config.mr.bootstrap_draws)}};
  return layout;
}

}  // namespace deepmr::app
