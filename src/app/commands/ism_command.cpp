// deepmr ism: saturation mutagenesis of one window with paired-mask MC dropout; one row per mutant
// and output (position ref alt output beta se).

#include <cmath>
#include <iostream>

#include "deepmr/app/batch_option.hpp"
#include "deepmr/app/command.hpp"
#include "deepmr/app/position_range.hpp"
#include "deepmr/app/model_options.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/genome/region_string.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {
namespace {

// The masks are keyed by a 32-bit region id (model/dropout_masks.hpp).
constexpr std::uint64_t kMaxRegionId = 0xffffffffull;

// One line per output whose effects are not finite: the model gave NaN or Inf on the reference or
// on mutants (a run marks such units failed; here the rows print empty fields).
void warn_non_finite(const ism::Effects& effects, const std::vector<std::string>& labels) {
  const int n_outputs = static_cast<int>(labels.size());
  for (int o = 0; o < n_outputs; ++o) {
    std::size_t affected = 0;
    for (std::size_t m = 0; m < effects.mutants.size(); ++m)
      if (!std::isfinite(effects.beta_at(static_cast<int>(m), o)) || !std::isfinite(effects.se_at(static_cast<int>(m), o)))
        ++affected;
    if (affected > 0)
      std::cerr << "deepmr ism: warning: output " << labels[o] << ": " << affected << " of " << effects.mutants.size()
                << " mutants have a non-finite effect (the model gave NaN or Inf on the reference or the mutant), "
                   "printed as empty fields" << std::endl;
  }
}

class IsmCommand : public Command {
 public:
  std::string name() const override { return "ism"; }
  std::string summary() const override {
    return "In-silico mutagenesis of one window: beta and se of every substitution under paired-mask MC dropout";
  }
  std::string usage() const override {
    return "--model FILE (--sequence ACGT... | --fasta FILE --region CHR:START-END) --outputs LIST [options]";
  }
  void describe(po::options_description& options, po::positional_options_description&) const override {
    describe_model_options(options, "");
    options.add_options()
        ("sequence", po::value<std::string>()->value_name("ACGT..."), "the window itself (length L)")
        ("fasta", po::value<std::string>()->value_name("FILE"), "FASTA to take the window from (.fai read or built)")
        ("region", po::value<std::string>()->value_name("CHR:START-END"), "1-based inclusive window of L bases")
        ("outputs", po::value<std::string>()->value_name("LIST"),
         "outputs to report: comma-separated names (targets) or 0-based indices")
        ("mc-samples", po::value<int>()->default_value(50)->value_name("N"), "Monte Carlo dropout samples (a deep ensemble: per member)")
        ("seed", po::value<std::string>()->default_value("1")->value_name("S"), "seed of the dropout masks (64-bit)")
        ("region-id", po::value<std::string>()->default_value("0")->value_name("R"),
         "region id keying the masks, 0 to 2^32 - 1 (a run uses the plan's id)")
        ("dropout", po::value<std::string>()->default_value("on")->value_name("on|off"),
         "off: deterministic f(m) - f(r) in inference mode, se = 0 (an ensemble: each member in inference mode, "
         "beta and se over the members)")
        ("batch", po::value<std::string>()->default_value("auto")->value_name("B"), kBatchHelp)
        ("engine", po::value<std::string>()->default_value("auto")->value_name("E"),
         "mutagenesis engine: full (forward passes of every mutant), incremental (only what a substitution "
         "changes), auto (incremental when the model allows it)")
        ("positions", po::value<std::string>()->value_name("FIRST-LAST"),
         "mutate only these window positions (0-based, inclusive; default: all), the others kept as context")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("tsv|json"), "output format");
  }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& v = parsed.values;
    const auto format = parse_table_format(v["format"].as<std::string>());
    ism::IsmOptions options;
    options.mc_samples = v["mc-samples"].as<int>();
    options.seed = unsigned_option(parsed, "seed");
    options.region_id = unsigned_option(parsed, "region-id", kMaxRegionId);
    options.batch = parse_batch(v["batch"].as<std::string>(), "batch");
    const auto& dropout = v["dropout"].as<std::string>();
    if (dropout != "on" && dropout != "off") throw UsageError("option 'dropout': use on or off, not '" + dropout + "'");
    options.dropout = dropout == "on";
    if (options.mc_samples < 0) throw UsageError("option 'mc-samples' must be at least 0 (0: dropout off)");
    const auto& engine_name = v["engine"].as<std::string>();
    ism::check_engine_name(engine_name, "engine");
    if (!v["positions"].empty()) check_position_range_syntax(v["positions"].as<std::string>(), "positions");
    if (v["outputs"].empty()) throw UsageError("missing required option 'outputs'");

    const bool from_sequence = !v["sequence"].empty();
    if (from_sequence == (!v["fasta"].empty() || !v["region"].empty()))
      throw UsageError("give either --sequence or --fasta with --region");
    if (!from_sequence && (v["fasta"].empty() || v["region"].empty()))
      throw UsageError("--fasta and --region go together");

    // Cheap checks first: a bad window should fail before a large model loads.
    std::string window, what;
    if (from_sequence) {
      window = ism::checked_sequence(v["sequence"].as<std::string>(), false, "--sequence");
      what = "--sequence";
    } else {
      const auto region = genome::parse_region_string(v["region"].as<std::string>(), "region");
      genome::FastaReader fasta(v["fasta"].as<std::string>());
      const auto id = fasta.sequence_id(region.chrom);
      if (region.end > fasta.length(id))
        throw InputError(v["fasta"].as<std::string>() + ": region " + v["region"].as<std::string>() + " ends past " +
                         region.chrom + " (" + std::to_string(fasta.length(id)) + " bases)");
      what = v["region"].as<std::string>();
      window = ism::checked_sequence(fasta.fetch(id, region.start, region.end), false, what);
    }

    const auto choice = load_model_choice(v, "", model::DataLength{static_cast<int>(window.size()), what});
    const int length = choice.stack->options.input_length;
    if (static_cast<int>(window.size()) != length)
      throw InputError(what + ": the window has " + std::to_string(window.size()) + " bases but the model takes " +
                       std::to_string(length) + "; give a window of exactly " + std::to_string(length) + " bases");
    if (!v["positions"].empty()) options.positions = parse_position_range(v["positions"].as<std::string>(), length, "positions");
    const auto outputs = resolve_output_list(choice, model::split_list(v["outputs"].as<std::string>()));

    if (choice.more_members.empty() && options.dropout && options.mc_samples == 1)
      std::cerr << "deepmr ism: warning: --mc-samples 1: every se is 0 because an SE needs at least 2 samples" << std::endl;
    // A deep ensemble: sample n is member n mod K (K x N samples, or K without MC dropout inside them).
    if (!choice.more_members.empty()) {
      options.member_dropout = model::member_dropout(choice, options.dropout && options.mc_samples > 0);
      options.mc_samples = model::region_samples(choice, std::max(options.mc_samples, 1), options.member_dropout);
      options.dropout = true;
    }
    auto network = model::make_choice_network(choice, outputs, choice.device);
    auto engine = ism::make_engine(engine_name, *network);
    const auto effects = engine->run(window, options);

    Table table({"position", "ref", "alt", "output", "beta", "se"});
    const int n_outputs = static_cast<int>(outputs.size());
    std::vector<std::string> labels;
    for (int o : outputs) labels.push_back(output_label(choice, o));
    for (std::size_t m = 0; m < effects.mutants.size(); ++m)
      for (int o = 0; o < n_outputs; ++o) {
        table.add_row();
        table.set("position", effects.mutants[m].position);
        table.set("ref", std::string(1, effects.mutants[m].ref));
        table.set("alt", std::string(1, effects.mutants[m].alt));
        table.set("output", labels[o]);
        const double beta = effects.beta_at(static_cast<int>(m), o), se = effects.se_at(static_cast<int>(m), o);
        table.set("beta", beta);
        // A NaN effect's se comes out of max(0, NaN) as 0: print it empty, not as an exact 0.
        if (std::isfinite(beta)) table.set("se", se);
      }
    table.write(std::cout, format);
    std::cout.flush();
    warn_non_finite(effects, labels);
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_ism_command() { return std::make_unique<IsmCommand>(); }

}  // namespace deepmr::app
