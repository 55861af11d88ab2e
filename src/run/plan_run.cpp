#include "deepmr/run/plan_run.hpp"

#include <algorithm>
#include <set>

#include "deepmr/common/error.hpp"
#include "deepmr/common/sha256.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/store/sequence_file.hpp"

namespace deepmr::run {

genome::Plan make_plan(const genome::PlanSpec& spec) {
  if (spec.source == genome::RegionSource::sequences) {
    const bool labelled = !spec.exposures.empty() && spec.exposures.front().column >= 0;
    store::SequenceFile file(spec.sequences, spec.sequences_dataset, labelled ? spec.labels_dataset : "");
    if (file.length() != spec.window_length)
      throw InputError(at(spec.sequences) + "its sequences are " + std::to_string(file.length()) +
                       " bases long but the model takes " + std::to_string(spec.window_length) +
                       " (model.input-length); use sequences of the model's input length");
    genome::RowCandidates rows;
    rows.input = spec.sequences;
    rows.rows = file.rows();
    if (labelled) {
      std::vector<std::uint64_t> columns;
      for (const auto& e : spec.exposures) columns.push_back(static_cast<std::uint64_t>(e.column));
      rows.bound = file.bound(columns);
    }
    const std::uint64_t length = file.length();
    rows.has_n = [&file, &spec, length](std::uint64_t row) {
      const auto values = file.read_row(row);
      const auto check = genome::check_one_hot(values.data(), static_cast<std::size_t>(length));
      if (check.first_invalid >= 0)
        throw InputError(at(spec.sequences) + "row " + std::to_string(row) + " of '" + spec.sequences_dataset +
                         "' is not one-hot at position " + std::to_string(check.first_invalid) +
                         " (a column must hold one 1 and three 0, or be N: all 0 or all 0.25)");
      return check.n_positions > 0;
    };
    return genome::build_row_plan(spec, rows);
  }
  genome::FastaReader fasta(spec.fasta);
  return spec.source == genome::RegionSource::sweep ? genome::build_sweep_plan(spec, fasta)
                                                    : genome::build_peak_plan(spec, fasta);
}

void resolve_units(RunSetup& setup) {
  // Each plan exposure is a model output: mapped by analysis.exposure, else its name is one.
  std::set<std::string> mapped;
  for (const auto& [name, output] : setup.config.exposure_outputs) mapped.insert(name);
  for (const auto& name : setup.plan.exposures()) {
    std::string output = name;
    for (const auto& [mapped_name, mapped_output] : setup.config.exposure_outputs)
      if (mapped_name == name) output = mapped_output;
    try {
      setup.exposure_outputs.push_back(model::resolve_output_list(setup.model, {output}).front());
    } catch (const ModelError& e) {
      throw ModelError("exposure '" + name + "': " + e.what() +
                       (output == name ? " (map it with 'analysis.exposure = " + name + "=OUTPUT')" : ""));
    }
    mapped.erase(name);
  }
  if (!mapped.empty())
    throw UsageError("option 'analysis.exposure' maps '" + *mapped.begin() + "', which is not an exposure of [regions]");
  // analysis.network: every exposure is an outcome too (after the listed ones, in exposure order).
  if (setup.config.network)
    for (int output : setup.exposure_outputs)
      if (std::find(setup.outcome_outputs.begin(), setup.outcome_outputs.end(), output) == setup.outcome_outputs.end())
        setup.outcome_outputs.push_back(output);
  // An exposure is fitted on every outcome but its own output; one with no other outcome has no unit.
  for (std::size_t e = 0; e < setup.exposure_outputs.size(); ++e)
    if (std::count(setup.outcome_outputs.begin(), setup.outcome_outputs.end(), setup.exposure_outputs[e]) ==
        static_cast<std::ptrdiff_t>(setup.outcome_outputs.size()))
      throw UsageError("exposure '" + setup.plan.exposures()[e] + "' is the outcome's own output (" +
                       setup.output_name(setup.exposure_outputs[e]) + "): its estimate would be exactly 1; map it to "
                       "another output (analysis.exposure) or choose another analysis.outcome");
  setup.units = FitUnits(setup.plan, setup.exposure_outputs, setup.outcome_outputs);
}

void plan_run(RunSetup& setup) {
  setup.plan = make_plan(setup.plan_spec);
  resolve_units(setup);
  // An ensemble: every member's, in order, joined by " ; ".
  setup.model_sha256.clear();
  for (const auto& file : model::model_files(setup.model))
    setup.model_sha256 += (setup.model_sha256.empty() ? "" : " ; ") + sha256_file(file);
  setup.plan_digest = sha256_hex(plan_text(setup.plan));
}

}  // namespace deepmr::run
