// deepmr plan: the regions and work units a run would process, without running anything.
// Writes regions.bed and units.tsv into --out and prints a summary per exposure (docs/genome.md).

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "deepmr/app/command.hpp"
#include "deepmr/app/model_options.hpp"
#include "deepmr/app/region_options.hpp"
#include "deepmr/app/run_config.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/atomic_file.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/genome/plan.hpp"
#include "deepmr/run/plan_run.hpp"

namespace deepmr::app {
namespace {

// fitted: the run's units (exposure, outcome, region) when the model and outcomes are known.
Table summary_table(const genome::Plan& plan, const std::optional<run::FitUnits>& fitted) {
  Table table({"exposure", "input", "records", "other_chromosome", "past_end", "duplicate", "candidates", "examined",
               "with_n", "units", "regions", "shared", "fit_units"});
  std::vector<std::size_t> fits(plan.exposures().size(), 0);
  if (fitted)
    for (std::uint64_t u = 0; u < fitted->count(); ++u) ++fits[fitted->exposure(u)];
  for (const auto& s : plan.summary()) {
    table.add_row();
    table.set("exposure", s.exposure);
    table.set("input", s.input);
    table.set("records", s.records);
    table.set("other_chromosome", s.other_chromosome);
    table.set("past_end", s.past_end);
    table.set("duplicate", s.duplicate);
    table.set("candidates", s.candidates);
    table.set("examined", s.examined);
    table.set("with_n", s.with_n);
    table.set("units", s.units);
    table.set("regions", s.units);  // one unit per region and exposure
    table.set("shared", s.shared);
    const auto e = static_cast<std::size_t>(
        std::find(plan.exposures().begin(), plan.exposures().end(), s.exposure) - plan.exposures().begin());
    if (fitted && e < fits.size()) table.set("fit_units", fits[e]);
  }
  // The whole plan: distinct regions and all units.
  table.add_row();
  table.set("exposure", "(all)");
  table.set("units", static_cast<std::size_t>(plan.unit_count()));
  table.set("regions", static_cast<std::size_t>(plan.region_count()));
  if (fitted) table.set("fit_units", static_cast<std::size_t>(fitted->count()));
  return table;
}

class PlanCommand final : public Command {
 public:
  std::string name() const override { return "plan"; }
  std::string summary() const override {
    return "Sample the regions of a run and list its work units (regions.bed, units.tsv)";
  }
  std::string usage() const override { return "--config FILE [--out DIR] [--format tsv|json]"; }

  // A run config is a plan config: every run key is accepted; plan reads the seed, the window
  // length (model.input-length, else the model file's) and the [regions] keys.
  void describe(po::options_description& options, po::positional_options_description&) const override {
    options.add_options()
        ("out", po::value<std::string>()->default_value(".")->value_name("DIR"),
         "directory for regions.bed and units.tsv (created when missing)")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("FORMAT"),
         "summary table on stdout: tsv or json");
    describe_run_options(options);
  }

  int run(const ParsedOptions& options, int, char**) override {
    const auto& values = options.values;
    const TableFormat format = parse_table_format(values["format"].as<std::string>(), "format");
    // The window length: model.input-length, else the model file's own.
    std::int64_t length = 0;
    std::vector<std::string> pattern_exposures;
    const auto keys = ModelKeys::run_config();
    std::optional<model::ModelChoice> model_choice;
    if (!values[keys.file].empty()) {
      model_choice = load_model_choice(values, keys, sequences_length(values));
      const auto& model = *model_choice;
      length = model.stack->options.input_length;
      if (!values["analysis.exposure-pattern"].empty()) {
        const std::vector<int> outcomes =
            values["analysis.outcome"].empty()
                ? std::vector<int>{}
                : resolve_output_list(model, values["analysis.outcome"].as<std::vector<std::string>>());
        pattern_exposures = outputs_matching(values["analysis.exposure-pattern"].as<std::string>(), model.target_names,
                                             outcomes, "analysis.exposure-pattern");
      }
    } else if (!values[keys.input_length].empty()) {
      length = values[keys.input_length].as<int>();
    } else {
      throw UsageError("missing option 'model.file' (or 'model.input-length'): the window length is the model's input length");
    }
    if (length <= 0)
      throw UsageError("option 'model.input-length' must be a positive number of bases, not " + std::to_string(length));
    genome::PlanSpec spec = read_region_options(values, pattern_exposures);
    spec.seed = unsigned_option(values, "analysis.seed");
    spec.window_length = static_cast<std::uint64_t>(length);

    const std::filesystem::path out_dir = values["out"].as<std::string>();
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (!std::filesystem::is_directory(out_dir))
      throw UsageError("--out: cannot create the directory " + out_dir.string() +
                       (ec ? " (" + ec.message() + ")" : std::string(" (a file has that name)")));

    const genome::Plan plan = run::make_plan(spec);
    write_file_atomically((out_dir / "regions.bed").string(), [&](std::ostream& out) { genome::write_regions_bed(plan, out); },
                          "--out", ExitCode::usage, Durability::renamed);
    write_file_atomically((out_dir / "units.tsv").string(), [&](std::ostream& out) { genome::write_units_tsv(plan, out); },
                          "--out", ExitCode::usage, Durability::renamed);
    // With the model and the outcomes, the units the run fits: each (exposure, region) on every
    // outcome but the exposure's own output (analysis.network adds the exposures as outcomes).
    std::optional<run::FitUnits> fitted;
    if (model_choice && !values["analysis.outcome"].empty()) {
      run::RunSetup setup;
      setup.config = read_run_config(values);
      setup.model = *model_choice;
      setup.plan = plan;
      setup.outcome_outputs = resolve_output_list(setup.model, setup.config.outcomes);
      run::resolve_units(setup);
      fitted = setup.units;
    }
    summary_table(plan, fitted).write(std::cout, format);
    std::cout.flush();
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_plan_command() { return std::make_unique<PlanCommand>(); }

}  // namespace deepmr::app
