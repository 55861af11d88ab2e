#include "deepmr/run/run_setup.hpp"

#include <algorithm>
#include <sstream>

#include "deepmr/common/build_info.hpp"
#include "deepmr/run/input_digests.hpp"

namespace deepmr::run {
namespace {

// The model file, or an ensemble's members in order joined by " ; " (model_labels).
std::string model_file_list(const model::ModelChoice& model) {
  std::string out;
  for (const auto& file : model::model_labels(model)) out += (out.empty() ? "" : " ; ") + file;
  return out;
}

}  // namespace

std::string plan_text(const genome::Plan& plan) {
  std::ostringstream out;
  genome::write_regions_bed(plan, out);
  genome::write_units_tsv(plan, out);
  return out.str();
}

std::vector<int> RunSetup::network_outputs() const {
  std::vector<int> outputs = outcome_outputs;
  for (int output : exposure_outputs)
    if (std::find(outputs.begin(), outputs.end(), output) == outputs.end()) outputs.push_back(output);
  return outputs;
}

store::Manifest RunSetup::manifest() const {
  store::Manifest manifest;
  for (const auto& [key, value] : provenance.result_keys) manifest.set(key, value);
  for (const auto& [key, value] : input_digests(*this)) manifest.set(key, value);
  manifest.set("plan.sha256", plan_digest);
  manifest.set("run.backend(effective)", model.backend == model::Backend::kernels ? "kernels" : "torch");
  manifest.set("run.device(kind)", model.device.kind == model::Device::Kind::cpu ? "cpu" : "cuda");
  manifest.set("store.format_version", std::to_string(store::kStoreFormatVersion));
  return manifest;
}

store::StoreLayout RunSetup::store_layout() const {
  store::StoreLayout layout;
  for (auto method : config.methods) layout.methods.push_back(stats::mr_method_name(method));
  for (int output : outcome_outputs) {
    layout.outcomes.push_back(output_name(output));
    layout.outcome_outputs.push_back(output);
  }
  layout.exposures = plan.exposures();
  for (int output : exposure_outputs) layout.exposure_outputs.push_back(output);
  for (const auto& region : plan.regions()) {
    layout.region_chrom.push_back(plan.chrom_name(region));
    layout.region_start.push_back(static_cast<std::int64_t>(region.start));
    layout.region_end.push_back(static_cast<std::int64_t>(region.end));
    layout.region_row.push_back(region.is_row() ? static_cast<std::int64_t>(region.row) : -1);
    layout.region_name.push_back(plan.label(region.id).name);
    layout.region_summit.push_back(plan.label(region.id).summit);
  }
  for (std::uint64_t r = 0; r < plan.region_count(); ++r)
    for (std::uint64_t u = units.first(r); u < units.first(r + 1); ++u) {
      layout.unit_exposure.push_back(static_cast<std::int32_t>(units.exposure(u)));
      layout.unit_outcome.push_back(static_cast<std::int32_t>(units.outcome(u)));
      layout.unit_region.push_back(static_cast<std::int64_t>(r));
    }
  if (config.store_effects) {
    // Mutants in deepmr's fixed order; positions and bases differ per region, so only the order is
    // stored: position p, then the 3 alternatives (per region: the bases other than its reference).
    // analysis.positions: only the sub-window's positions are mutated.
    const int length = model.stack->options.input_length;
    std::vector<int> positions = config.positions;
    if (positions.empty())
      for (int p = 0; p < length; ++p) positions.push_back(p);
    layout.mutants = static_cast<std::uint32_t>(3 * positions.size());
    layout.window_length = static_cast<std::uint32_t>(length);
    for (int p : positions)
      for (int k = 0; k < 3; ++k) layout.mutant_position.push_back(p);
  }
  const auto& stack = *model.stack;
  layout.text_attributes = {
      {"deepmr_version", build::version},
      {"versions", provenance.versions},
      {"config", provenance.config_text},
      {"config_path", provenance.config_path},
      {"model", model_file_list(model)},
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
                           {"units_total", static_cast<std::int64_t>(units.count())},
                           {"network", config.network ? 1 : 0},
                           {"bootstrap", static_cast<std::int64_t>(config.mr.bootstrap_draws)}};
  if (!model.more_members.empty())  // a deep ensemble: mc_samples counts the samples of all members
    layout.int_attributes["ensemble_members"] = static_cast<std::int64_t>(1 + model.more_members.size());
  return layout;
}

}  // namespace deepmr::run
