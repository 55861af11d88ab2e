#include "deepmr/app/region_options.hpp"

#include <charconv>
#include <limits>

#include "deepmr/common/error.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/store/sequence_file.hpp"

namespace deepmr::app {
namespace {

const char* const kSource = "regions.source";
const char* const kFasta = "regions.fasta";
const char* const kPeaks = "regions.peaks";
const char* const kSweep = "regions.sweep";
const char* const kExposures = "regions.exposures";
const char* const kSequences = "regions.sequences";
const char* const kSequencesDataset = "regions.sequences-dataset";
const char* const kLabelsDataset = "regions.labels-dataset";
const char* const kLabel = "regions.label";
const char* const kSequencesAlphabet = "regions.sequences-alphabet";
const char* const kPerExposure = "regions.per-exposure";
const char* const kAllowFewer = "regions.allow-fewer";
const char* const kChromosomes = "regions.chromosomes";
const char* const kNPolicy = "regions.n-policy";
const char* const kOutOfBounds = "regions.out-of-bounds";
const char* const kFormat = "regions.format";

bool given(const po::variables_map& values, const char* key) {
  return values.count(key) && !values[key].defaulted();
}

std::string text(const po::variables_map& values, const char* key) {
  return values.count(key) ? values[key].as<std::string>() : std::string();
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= list.size()) {
    const std::size_t comma = std::min(list.find(',', from), list.size());
    std::string item = list.substr(from, comma - from);
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    from = comma + 1;
  }
  return out;
}

// Exposure names go into regions.bed (comma-joined) and units.tsv: no separators in them.
void check_name(const std::string& name, const char* key, const std::string& entry) {
  if (name.empty() || name.find_first_of(" \t,=\r\n") != std::string::npos)
    throw UsageError(std::string("option '") + key + "': '" + entry +
                     "' does not start with an exposure name (letters, digits, '_', '-', '.'; no spaces or commas)");
}

// "NAME=VALUE" entries of a repeatable key.
std::vector<std::pair<std::string, std::string>> named_entries(const po::variables_map& values, const char* key,
                                                               const char* value_kind) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!values.count(key)) return out;
  for (const auto& entry : values[key].as<std::vector<std::string>>()) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq + 1 == entry.size())
      throw UsageError(std::string("option '") + key + "': '" + entry + "' should be NAME=" + value_kind);
    std::string name = entry.substr(0, eq), value = entry.substr(eq + 1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    check_name(name, key, entry);
    out.emplace_back(name, value);
  }
  return out;
}

void refuse(const po::variables_map& values, const char* key, genome::RegionSource source) {
  if (given(values, key))
    throw UsageError(std::string("option '") + key + "' does not apply to regions.source = " +
                     genome::to_string(source) + " (see docs/config.md)");
}

void require(const po::variables_map& values, const char* key, genome::RegionSource source, const char* what) {
  if (!values.count(key) || text(values, key).empty())
    throw UsageError(std::string("missing option '") + key + "' (" + what + ") for regions.source = " +
                     genome::to_string(source));
}

std::vector<genome::ExposureInput> listed_exposures(const po::variables_map& values,
                                                    const std::vector<std::string>& default_exposures) {
  std::vector<genome::ExposureInput> out;
  const auto names = given(values, kExposures) ? split_list(text(values, kExposures)) : default_exposures;
  for (const auto& name : names) {
    check_name(name, kExposures, name);
    out.push_back({name, "", -1});
  }
  return out;
}

}  // namespace

void describe_region_options(po::options_description& options) {
  options.add_options()
      (kSource, po::value<std::string>()->default_value("peaks")->value_name("KIND"),
       "where regions come from: peaks (a FASTA and a peak file per exposure), sweep (every region of one BED "
       "for every exposure) or sequences (rows of an HDF5 file of one-hot sequences)")
      (kFasta, po::value<std::string>()->value_name("FILE"),
       "reference FASTA (plain text; its .fai is read, or built and written next to it)")
      (kPeaks, po::value<std::vector<std::string>>()->composing()->value_name("NAME=FILE"),
       "an exposure and its peak file (narrowPeak or BED, plain or gzip); repeat for each exposure")
      (kSweep, po::value<std::string>()->value_name("FILE"), "sweep: BED of regions, each a unit of every exposure")
      (kExposures, po::value<std::string>()->value_name("NAMES"),
       "sweep, or sequences without labels: comma-separated exposure names")
      (kSequences, po::value<std::string>()->value_name("FILE"), "sequences: HDF5 file of N x 4 x L one-hot sequences")
      (kSequencesDataset, po::value<std::string>()->default_value("sequences")->value_name("PATH"),
       "sequences: the N x 4 x L dataset (uint8 or float)")
      (kLabelsDataset, po::value<std::string>()->default_value("labels")->value_name("PATH"),
       "sequences: the N x T label dataset (bound = value > 0.5)")
      (kLabel, po::value<std::vector<std::string>>()->composing()->value_name("NAME=COLUMN"),
       "sequences: an exposure and its label column (0-based); repeat for each exposure")
      (kSequencesAlphabet, po::value<std::string>()->default_value("ACGT")->value_name("ORDER"),
       "sequences: channel order of the stored one-hot (e.g. AGCT for DeepSEA's files)")
      (kPerExposure, po::value<std::int64_t>()->default_value(25)->value_name("K"),
       "regions sampled per exposure (0: every usable one)")
      (kAllowFewer, po::value<bool>()->default_value(false)->implicit_value(true)->value_name("BOOL"),
       "take what exists when an exposure has fewer than K usable regions (default: an error)")
      (kChromosomes, po::value<std::string>()->default_value("")->value_name("NAMES"),
       "keep only peaks on these comma-separated chromosomes (e.g. chr8,chr9); empty: all")
      (kNPolicy, po::value<std::string>()->default_value("skip")->value_name("POLICY"),
       "windows holding N: skip (leave out and count) or quarter (encode N as 0.25 in every channel)")
      (kOutOfBounds, po::value<std::string>()->default_value("skip")->value_name("POLICY"),
       "windows past a chromosome end: skip (leave out and count) or error")
      (kFormat, po::value<std::string>()->default_value("auto")->value_name("FORMAT"),
       "peak/BED file format: auto (narrowPeak for *.narrowPeak[.gz], else BED), bed or narrowpeak");
}

genome::PlanSpec read_region_options(const po::variables_map& values,
                                     const std::vector<std::string>& default_exposures) {
  genome::PlanSpec spec;
  spec.source = genome::parse_region_source(text(values, kSource), kSource);
  spec.n_policy = genome::parse_n_policy(text(values, kNPolicy), kNPolicy);
  spec.out_of_bounds = genome::parse_bounds_policy(text(values, kOutOfBounds), kOutOfBounds);
  spec.format = genome::parse_peak_format(text(values, kFormat), kFormat);
  spec.sequences_alphabet = genome::Alphabet::parse(text(values, kSequencesAlphabet), kSequencesAlphabet);
  const auto k = values[kPerExposure].as<std::int64_t>();
  if (k < 0) throw UsageError(std::string("option '") + kPerExposure + "' must be 0 (all) or a positive count, not " +
                              std::to_string(k));
  spec.per_exposure = static_cast<std::uint64_t>(k);
  spec.allow_fewer = values[kAllowFewer].as<bool>();
  spec.chromosomes = split_list(text(values, kChromosomes));

  switch (spec.source) {
    case genome::RegionSource::peaks: {
      for (const char* key : {kSweep, kExposures, kSequences, kSequencesDataset, kLabelsDataset, kLabel,
                              kSequencesAlphabet})
        refuse(values, key, spec.source);
      require(values, kFasta, spec.source, "the reference FASTA");
      spec.fasta = text(values, kFasta);
      for (auto& [name, path] : named_entries(values, kPeaks, "FILE")) spec.exposures.push_back({name, path, -1});
      if (spec.exposures.empty())
        throw UsageError(std::string("missing option '") + kPeaks +
                         "': give one 'peaks = NAME=FILE' line per exposure for regions.source = peaks");
      break;
    }
    case genome::RegionSource::sweep: {
      for (const char* key : {kPeaks, kSequences, kSequencesDataset, kLabelsDataset, kLabel, kSequencesAlphabet,
                              kPerExposure, kAllowFewer})
        refuse(values, key, spec.source);
      require(values, kFasta, spec.source, "the reference FASTA");
      require(values, kSweep, spec.source, "the BED of regions");
      if (default_exposures.empty()) require(values, kExposures, spec.source, "the exposures");
      spec.fasta = text(values, kFasta);
      spec.sweep = text(values, kSweep);
      spec.exposures = listed_exposures(values, default_exposures);
      spec.per_exposure = 0;
      break;
    }
    case genome::RegionSource::sequences: {
      for (const char* key : {kFasta, kPeaks, kSweep, kChromosomes, kOutOfBounds, kFormat})
        refuse(values, key, spec.source);
      require(values, kSequences, spec.source, "the HDF5 file of sequences");
      spec.sequences = text(values, kSequences);
      spec.sequences_dataset = text(values, kSequencesDataset);
      spec.labels_dataset = text(values, kLabelsDataset);
      const auto labels = named_entries(values, kLabel, "COLUMN");
      if (!labels.empty() && given(values, kExposures))
        throw UsageError(std::string("options '") + kLabel + "' and '" + kExposures +
                         "' exclude each other: exposures come with label columns, or are listed without");
      for (const auto& [name, column] : labels) {
        std::int64_t c = -1;
        const auto [ptr, ec] = std::from_chars(column.data(), column.data() + column.size(), c);
        if (ec != std::errc() || ptr != column.data() + column.size() || c < 0)
          throw UsageError(std::string("option '") + kLabel + "': column '" + column + "' of exposure '" + name +
                           "' is not a non-negative whole number");
        spec.exposures.push_back({name, "", c});
      }
      if (labels.empty()) spec.exposures = listed_exposures(values, default_exposures);
      if (spec.exposures.empty())
        throw UsageError(std::string("missing option '") + kLabel + "': give 'label = NAME=COLUMN' lines (or '" +
                         kExposures + " = A,B' to use every row) for regions.source = sequences");
      break;
    }
  }
  return spec;
}

std::optional<model::DataLength> sequences_length(const po::variables_map& values) {
  if (values[kSource].empty() || values[kSource].as<std::string>() != "sequences" || values[kSequences].empty())
    return std::nullopt;
  const auto& path = values[kSequences].as<std::string>();
  const store::SequenceFile file(path, values[kSequencesDataset].as<std::string>(), "");
  if (file.length() > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return std::nullopt;
  return model::DataLength{static_cast<int>(file.length()), path + " (its sequences)"};
}

}  // namespace deepmr::app
