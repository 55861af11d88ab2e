// deepmr export: a store's results in genome-browser formats (docs/export.md). BED: the per-region
// MR estimates; bedGraph and bigWig: the per-mutant effects as per-base tracks, on the chromosome
// sizes of the run's FASTA index. A partial store is exported as far as it is done, said on stderr
// and in the track descriptions, and the exit status is then 75, as for summarize.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "deepmr/app/command.hpp"
#include "deepmr/app/estimates_bed.hpp"
#include "deepmr/app/options.hpp"
#include "deepmr/app/store_tables.hpp"
#include "deepmr/app/track_export.hpp"
#include "deepmr/common/atomic_file.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/genome/fasta_index.hpp"
#include "deepmr/store/effects_reader.hpp"
#include "deepmr/store/store_reader.hpp"

namespace deepmr::app {
namespace {

enum class ExportFormat { bed, bedgraph, bigwig };

ExportFormat parse_export_format(const std::string& text) {
  if (text == "bed") return ExportFormat::bed;
  if (text == "bedgraph" || text == "bedGraph") return ExportFormat::bedgraph;
  if (text == "bigwig" || text == "bigWig") return ExportFormat::bigwig;
  throw UsageError("option 'format': unknown export format '" + text + "' (use bed, bedgraph or bigwig)");
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = text.find(',', from);
    out.push_back(text.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
    if (comma == std::string::npos) return out;
    from = comma + 1;
  }
}

// The last value of `key` ("section.key") in the store's config attribute, read as --config reads
// a file; empty when it has none.
std::string config_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string found;
  for (const auto& entry : read_config_text(in, "the store's config attribute"))
    if (entry.key == key) found = entry.value;
  return found;
}

// The chromosome sizes of the run's genome: FILE.fai (built from FILE when it has none), FILE from
// --fasta or else the store's regions.fasta. Every region's chromosome must be there and fit.
std::vector<ChromSize> chromosome_sizes(const store::StoreContents& store, const std::string& given) {
  std::string fasta = given;
  const char* origin = "--fasta";
  if (fasta.empty()) {
    const auto config = store.text_attributes.find("config");
    fasta = config == store.text_attributes.end() ? "" : config_value(config->second, "regions.fasta");
    origin = "the run's regions.fasta";
    if (fasta.empty())
      throw UsageError("the store's config names no regions.fasta; give the run's FASTA with --fasta FILE "
                       "(its .fai holds the chromosome sizes)");
  }
  genome::FastaIndex index;
  if (std::filesystem::exists(fasta + ".fai")) index = genome::FastaIndex::read(fasta + ".fai");
  else if (std::filesystem::exists(fasta)) index = genome::FastaIndex::build(fasta);
  else
    throw InputError(fasta + ": no such FASTA (" + origin + ", relative to the directory the run started in) and no " +
                     fasta + ".fai; give the run's FASTA with --fasta FILE");
  std::vector<ChromSize> chroms;
  for (const auto& record : index.records()) {
    if (record.length > UINT32_MAX)
      throw InputError(fasta + ".fai: sequence " + record.name + " is longer than bigWig's 2^32 - 1 bases");
    chroms.push_back({record.name, static_cast<std::uint32_t>(record.length)});
  }
  for (std::size_t r = 0; r < store.region_chrom.size(); ++r) {
    const auto id = index.find(store.region_chrom[r]);
    if (!id || index[*id].length < static_cast<std::uint64_t>(store.region_end[r]))
      throw InputError(fasta + ": " + (id ? "sequence " + store.region_chrom[r] + " is shorter than the store's region " +
                                                std::to_string(r)
                                          : "no sequence " + store.region_chrom[r] + " (a chromosome of the store's regions)") +
                       "; give the run's FASTA with --fasta FILE");
  }
  return chroms;
}

class ExportCommand : public Command {
 public:
  std::string name() const override { return "export"; }
  std::string summary() const override {
    return "A store's per-region estimates as BED, its per-mutant effects as bedGraph or bigWig tracks";
  }
  std::string usage() const override {
    return "STORE --format bed|bedgraph|bigwig --out PATH [--exposure NAMES] [--outcome] [--method M] "
           "[--stat LIST] [--alt LIST] [--fasta FILE]";
  }
  void describe(po::options_description& options, po::positional_options_description& positional) const override {
    options.add_options()
        ("store", po::value<std::string>()->value_name("STORE"), "the run's HDF5 store")
        ("format", po::value<std::string>()->value_name("bed|bedgraph|bigwig"),
         "bed: per-region MR estimates; bedgraph, bigwig: per-mutant effect tracks")
        ("out", po::value<std::string>()->value_name("PATH"), "the file (bed, bedgraph) or directory (bigwig) to write")
        ("exposure", po::value<std::string>()->value_name("NAMES"),
         "only these exposures (comma-separated; default: every exposure, and the outcome's tracks)")
        ("outcome", po::bool_switch(), "the outcome's effect tracks (alone, or with those of --exposure)")
        ("method", po::value<std::string>()->value_name("M"), "bed: the MR method (default: the run's first)")
        ("stat", po::value<std::string>()->default_value("beta,se,z")->value_name("LIST"), "tracks of these statistics")
        ("alt", po::value<std::string>()->default_value("A,C,G,T,mean,maxabs")->value_name("LIST"),
         "tracks per alternative base, and of the mean or the largest magnitude over the 3 alternatives")
        ("fasta", po::value<std::string>()->value_name("FILE"),
         "the run's FASTA, whose .fai gives the chromosome sizes (default: the store's regions.fasta)");
    positional.add("store", 1);
  }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& v = parsed.values;
    if (v["store"].empty()) throw UsageError("say which store: deepmr export STORE --format F --out PATH");
    if (v["format"].empty()) throw UsageError("say which format: --format bed, bedgraph or bigwig");
    if (v["out"].empty()) throw UsageError("say where to write: --out PATH (a file; a directory for bigwig)");
    const std::string path = v["store"].as<std::string>(), out = v["out"].as<std::string>();
    const auto format = parse_export_format(v["format"].as<std::string>());
    const bool tracks = format != ExportFormat::bed;
    if (tracks && !v["method"].empty())
      throw UsageError("option 'method' picks the MR fits of --format bed; effect tracks do not depend on it");
    if (!tracks && v["outcome"].as<bool>())
      throw UsageError("option 'outcome' selects the outcome's effect tracks (bedgraph, bigwig); the BED holds "
                       "the exposures' estimates");
    if (!tracks && (!v["stat"].defaulted() || !v["alt"].defaulted()))
      throw UsageError("options 'stat' and 'alt' choose effect tracks (bedgraph, bigwig), not the BED of estimates");

    const auto store = store::read_store(path);
    // Exposures: those named, or all of them.
    std::vector<bool> selected(store.exposures.size(), v["exposure"].empty());
    if (!v["exposure"].empty())
      for (const auto& name : split_commas(v["exposure"].as<std::string>())) {
        std::size_t e = 0;
        while (e < store.exposures.size() && store.exposures[e] != name) ++e;
        if (e == store.exposures.size()) {
          std::string names;
          for (const auto& x : store.exposures) names += (names.empty() ? "" : ", ") + x;
          throw UsageError("option 'exposure': the store has no exposure '" + name + "' (it has " + names + ")");
        }
        selected[e] = true;
      }

    std::string what;
    if (format == ExportFormat::bed) {
      std::size_t method = 0;
      if (store.methods.empty()) throw StoreError(path + ": the store has no MR methods");
      if (!v["method"].empty()) {
        method = store.methods.size();
        for (std::size_t m = 0; m < store.methods.size(); ++m)
          if (store.methods[m] == v["method"].as<std::string>()) method = m;
        if (method == store.methods.size())
          throw UsageError("option 'method': the store has no fits of '" + v["method"].as<std::string>() + "' (it has " +
                           store.text_attributes.at("methods") + ")");
      }
      std::size_t lines = 0;
      write_file_atomically(out, [&](std::ostream& stream) { lines = write_estimates_bed(store, method, selected, stream); },
                            "--out", ExitCode::usage, Durability::renamed);
      what = std::to_string(lines) + " per-region " + store.methods[method] + " estimates to " + out;
    } else {
      if (!store::EffectsReader(path).present())
        throw StoreError(path + ": the store holds no per-mutant effects (no effects/ group), so it has no effect "
                                "tracks; rerun the run with run.store-effects = true (export --format bed needs none)");
      for (std::int64_t row : store.region_row)
        if (row >= 0)
          throw UsageError("the store's regions are rows of a sequence file, which have no genome coordinates; "
                           "only --format bed exports them");
      // No filter: every exposure and the outcome. Filters: what they name (--outcome alone: the outcome only).
      TrackRequest request;
      const bool named = !v["exposure"].empty(), outcome = v["outcome"].as<bool>();
      request.outcome = outcome || !named;
      for (std::uint32_t e = 0; e < selected.size(); ++e)
        if (selected[e] && (named || !outcome)) request.exposures.push_back(e);
      for (EffectStat stat : parse_effect_stats(v["stat"].as<std::string>(), "stat"))
        for (AltChoice alt : parse_alt_choices(v["alt"].as<std::string>(), "alt")) request.choices.push_back({stat, alt});
      request.chroms = chromosome_sizes(store, v["fasta"].empty() ? std::string() : v["fasta"].as<std::string>());
      if (format == ExportFormat::bigwig) {
        std::error_code ec;
        std::filesystem::create_directories(out, ec);
        if (!std::filesystem::is_directory(out))
          throw UsageError("--out: cannot create the directory " + out +
                           (ec ? " (" + ec.message() + ")" : std::string(" (a file has that name)")));
      }
      const auto summary =
          export_tracks(path, store, request, format == ExportFormat::bigwig ? TrackFormat::bigwig : TrackFormat::bedgraph, out);
      what = std::to_string(summary.tracks) + (format == ExportFormat::bigwig ? " bigWig tracks to " : " bedGraph tracks to ") + out;
      if (!summary.empty.empty())
        std::cerr << "deepmr export: " << summary.empty.size() << " tracks have no value (no unit done), not written: "
                  << summary.empty.front() << (summary.empty.size() > 1 ? ", ..." : "") << std::endl;
    }
    std::cerr << "deepmr export: wrote " << what << std::endl;
    if (!is_complete(store)) {
      std::cerr << "deepmr export: " << path << ": partial store: " << completeness(store)
                << "; exported what is done" << std::endl;
      return static_cast<int>(ExitCode::resumable);
    }
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_export_command() { return std::make_unique<ExportCommand>(); }

}  // namespace deepmr::app
