#include "deepmr/genome/plan.hpp"

#include <algorithm>
#include <ostream>
#include <tuple>

#include "deepmr/common/error.hpp"

namespace deepmr::genome {
namespace {

auto key(const Region& r) { return std::tie(r.chrom, r.start, r.end, r.row); }

}  // namespace

RegionSource parse_region_source(std::string_view text, const std::string& option) {
  if (text == "peaks") return RegionSource::peaks;
  if (text == "sweep") return RegionSource::sweep;
  if (text == "sequences") return RegionSource::sequences;
  throw UsageError("option '" + option + "': unknown region source '" + std::string(text) +
                   "' (use peaks, sweep or sequences)");
}

std::string to_string(RegionSource source) {
  switch (source) {
    case RegionSource::peaks: return "peaks";
    case RegionSource::sweep: return "sweep";
    default: return "sequences";
  }
}

bool region_less(const Region& a, const Region& b) { return key(a) < key(b); }
bool same_region(const Region& a, const Region& b) { return key(a) == key(b); }

Plan Plan::assemble(RegionSource source, std::uint64_t window_length, std::vector<std::string> chromosomes,
                    std::vector<std::string> exposures, const std::vector<std::vector<Region>>& chosen,
                    std::vector<ExposureSummary> summaries, const std::vector<std::vector<PeakLabel>>& labels) {
  Plan plan;
  plan.source_ = source;
  plan.window_length_ = window_length;
  plan.chromosomes_ = std::move(chromosomes);
  plan.exposures_ = std::move(exposures);
  plan.summaries_ = std::move(summaries);

  // (region, exposure) pairs in canonical order: region, then exposure (names are sorted).
  struct Pair {
    Region region;
    std::uint32_t exposure;
    const PeakLabel* label;  // null when unknown
  };
  std::vector<Pair> pairs;
  std::size_t total = 0;
  for (const auto& c : chosen) total += c.size();
  pairs.reserve(total);
  for (std::size_t e = 0; e < chosen.size(); ++e) {
    const bool labelled = e < labels.size() && labels[e].size() == chosen[e].size();
    for (std::size_t i = 0; i < chosen[e].size(); ++i)
      pairs.push_back({chosen[e][i], static_cast<std::uint32_t>(e), labelled ? &labels[e][i] : nullptr});
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
    if (!same_region(a.region, b.region)) return region_less(a.region, b.region);
    return a.exposure < b.exposure;
  });

  plan.unit_exposure_.reserve(pairs.size());
  std::vector<std::uint64_t> shared(plan.exposures_.size(), 0), units(plan.exposures_.size(), 0);
  for (std::size_t i = 0; i < pairs.size();) {
    std::size_t j = i;
    while (j < pairs.size() && same_region(pairs[j].region, pairs[i].region)) ++j;
    Region region = pairs[i].region;
    region.id = plan.regions_.size();
    plan.regions_.push_back(region);
    plan.first_unit_.push_back(plan.unit_exposure_.size());
    PeakLabel label;
    for (std::size_t k = i; k < j; ++k)
      if (pairs[k].label) merge_label(label, *pairs[k].label);
    plan.labels_.push_back(std::move(label));
    for (std::size_t k = i; k < j; ++k) {
      if (k > i && pairs[k].exposure == pairs[k - 1].exposure)
        throw InternalError("plan: region chosen twice for exposure " + plan.exposures_[pairs[k].exposure]);
      plan.unit_exposure_.push_back(pairs[k].exposure);
      ++units[pairs[k].exposure];
      if (j - i > 1) ++shared[pairs[k].exposure];
    }
    i = j;
  }
  plan.first_unit_.push_back(plan.unit_exposure_.size());
  if (std::none_of(plan.labels_.begin(), plan.labels_.end(), [](const PeakLabel& l) { return l.known(); }))
    plan.labels_.clear();
  plan.regions_.shrink_to_fit();  // a plan lives for the whole run: no slack
  plan.first_unit_.shrink_to_fit();
  plan.labels_.shrink_to_fit();
  for (std::size_t e = 0; e < plan.summaries_.size() && e < units.size(); ++e) {
    plan.summaries_[e].units = units[e];
    plan.summaries_[e].shared = shared[e];
  }
  return plan;
}

Plan Plan::all_pairs(RegionSource source, std::uint64_t window_length, std::vector<std::string> chromosomes,
                     std::vector<std::string> exposures, std::vector<Region> regions,
                     std::vector<ExposureSummary> summaries, std::vector<PeakLabel> labels) {
  if (!labels.empty() && labels.size() != regions.size())
    throw InternalError("plan: " + std::to_string(labels.size()) + " peak labels for " + std::to_string(regions.size()) +
                        " regions");
  Plan plan;
  plan.source_ = source;
  plan.window_length_ = window_length;
  plan.chromosomes_ = std::move(chromosomes);
  plan.exposures_ = std::move(exposures);
  plan.summaries_ = std::move(summaries);
  plan.regions_ = std::move(regions);
  plan.regions_.shrink_to_fit();  // a plan lives for the whole run: no slack
  if (std::any_of(labels.begin(), labels.end(), [](const PeakLabel& l) { return l.known(); })) {
    plan.labels_ = std::move(labels);
    plan.labels_.shrink_to_fit();
  }
  const auto e = static_cast<std::uint32_t>(plan.exposures_.size());
  plan.first_unit_.resize(plan.regions_.size() + 1);
  plan.unit_exposure_.resize(plan.regions_.size() * e);
  for (std::size_t r = 0; r < plan.regions_.size(); ++r) {
    plan.regions_[r].id = r;
    plan.first_unit_[r] = r * e;
    for (std::uint32_t k = 0; k < e; ++k) plan.unit_exposure_[r * e + k] = k;
  }
  plan.first_unit_.back() = plan.regions_.size() * e;
  for (auto& s : plan.summaries_) {
    s.units = plan.regions_.size();
    s.shared = e > 1 ? plan.regions_.size() : 0;
  }
  return plan;
}

Unit Plan::unit(std::uint64_t id) const {
  // The region whose unit range holds id: the last offset <= id.
  const auto it = std::upper_bound(first_unit_.begin(), first_unit_.end(), id);
  return Unit{id, unit_exposure_[id], static_cast<std::uint64_t>(it - first_unit_.begin() - 1)};
}

const PeakLabel& Plan::label(std::uint64_t id) const {
  static const PeakLabel unknown;
  return labels_.empty() ? unknown : labels_.at(id);
}

const std::string& Plan::chrom_name(const Region& region) const {
  static const std::string row = "row";
  return region.is_window() ? chromosomes_.at(region.chrom) : row;
}

std::size_t Plan::memory_bytes() const {
  std::size_t bytes = sizeof(Plan) + regions_.capacity() * sizeof(Region) +
                      first_unit_.capacity() * sizeof(std::uint64_t) +
                      unit_exposure_.capacity() * sizeof(std::uint32_t);
  for (const auto& s : chromosomes_) bytes += sizeof(std::string) + s.capacity();
  for (const auto& s : exposures_) bytes += sizeof(std::string) + s.capacity();
  bytes += labels_.capacity() * sizeof(PeakLabel);
  for (const auto& l : labels_)
    if (l.name.capacity() > std::string().capacity()) bytes += l.name.capacity();
  bytes += summaries_.capacity() * sizeof(ExposureSummary);
  return bytes;
}

namespace {

// chrom, start and end of a region as the plan's files write them (a row r of a sequence file is
// "row r r+1", so that the files stay BED).
void write_coordinates(const Plan& plan, const Region& r, std::ostream& out) {
  out << plan.chrom_name(r) << '\t' << (r.is_window() ? r.start : r.row) << '\t' << (r.is_window() ? r.end : r.row + 1);
}

}  // namespace

void write_regions_bed(const Plan& plan, std::ostream& out) {
  out << "#chrom\tstart\tend\tregion\texposures\tname\tsummit\n";
  for (const Region& r : plan.regions()) {
    write_coordinates(plan, r, out);
    out << '\t' << r.id << '\t';
    for (std::uint64_t u = plan.first_unit(r.id); u < plan.first_unit(r.id + 1); ++u)
      out << (u == plan.first_unit(r.id) ? "" : ",") << plan.exposures()[plan.unit_exposure(u)];
    const PeakLabel& label = plan.label(r.id);
    out << '\t' << (label.name.empty() ? "." : label.name) << '\t' << label.summit << '\n';
  }
}

void write_units_tsv(const Plan& plan, std::ostream& out) {
  out << "unit\texposure\tregion\tchrom\tstart\tend\tname\tsummit\n";
  for (const Region& r : plan.regions()) {
    const PeakLabel& label = plan.label(r.id);
    for (std::uint64_t u = plan.first_unit(r.id); u < plan.first_unit(r.id + 1); ++u) {
      out << u << '\t' << plan.exposures()[plan.unit_exposure(u)] << '\t' << r.id << '\t';
      write_coordinates(plan, r, out);
      out << '\t' << label.name << '\t';
      if (label.summit != PeakLabel::kNoSummit) out << label.summit;
      out << '\n';
    }
  }
}

}  // namespace deepmr::genome
