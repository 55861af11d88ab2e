#pragma once
// The plan of a run: its regions and its work units (exposure, region).
//
// A region is what a worker fetches and mutates once: a window of a FASTA sequence, or a row of a
// file of pre-encoded sequences. A unit is one (exposure, region) pair: a region sampled for
// several exposures is one region with several units. Ids are dense and canonical: regions are
// numbered in genomic order (FASTA sequence order, then start) or row order; units by region id,
// then by exposure name. Exposures are kept sorted by name, so the plan does not depend on the
// order in which a config lists them.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "deepmr/genome/peak_label.hpp"
#include "deepmr/genome/window.hpp"

namespace deepmr::genome {

enum class RegionSource {
  peaks,      // a FASTA and one peak file per exposure: K regions sampled per exposure
  sweep,      // a FASTA and one BED of regions: every region is a unit of every exposure
  sequences,  // pre-encoded sequences (HDF5, N x 4 x L), bound rows per exposure from a label matrix
};
// "peaks", "sweep" or "sequences"; UsageError naming `option` otherwise.
RegionSource parse_region_source(std::string_view text, const std::string& option = "source");
std::string to_string(RegionSource source);

// A region descriptor: what messages of a run carry (ids and coordinates, never sequence). Plain
// data of fixed size.
struct Region {
  static constexpr std::uint32_t kNoChrom = 0xffffffffu;
  static constexpr std::uint64_t kNoRow = ~std::uint64_t{0};

  std::uint64_t id = 0;
  std::uint32_t chrom = kNoChrom;  // window: the sequence's index in the FASTA (.fai order)
  std::uint64_t start = 0;         // window: [start, end), 0-based; row: [0, L)
  std::uint64_t end = 0;
  std::uint64_t row = kNoRow;      // row of the sequence file; kNoRow for a window

  bool is_window() const { return row == kNoRow; }
  bool is_row() const { return row != kNoRow; }
  Window window() const { return {chrom, start, end}; }

  static Region of_window(const Window& w) { return Region{0, w.chrom, w.start, w.end, kNoRow}; }
  static Region of_row(std::uint64_t row, std::uint64_t length) { return Region{0, kNoChrom, 0, length, row}; }
};

static_assert(std::is_trivially_copyable_v<Region>, "Region travels in messages as plain bytes");

// Canonical order: windows in genomic order, rows in row order (ids excluded).
bool region_less(const Region& a, const Region& b);
bool same_region(const Region& a, const Region& b);

struct Unit {
  std::uint64_t id = 0;
  std::uint32_t exposure = 0;  // index into Plan::exposures()
  std::uint64_t region = 0;    // region id
};

// How one exposure's regions were chosen, and what was left out and why.
struct ExposureSummary {
  std::string exposure;
  std::string input;                   // its peak file, the sweep BED or the sequence file
  std::uint64_t records = 0;           // peak or BED lines read (sequences: bound rows)
  std::uint64_t other_chromosome = 0;  // left out by the chromosome filter
  std::uint64_t past_end = 0;          // windows that do not fit in their sequence
  std::uint64_t duplicate = 0;         // windows identical to another of this exposure's
  std::uint64_t candidates = 0;        // distinct windows (rows) sampled from
  std::uint64_t examined = 0;          // candidates read and tested
  std::uint64_t with_n = 0;            // of those, skipped for holding N
  std::uint64_t units = 0;             // regions chosen: this exposure's units
  std::uint64_t shared = 0;            // of those, regions chosen for another exposure too
};

class Plan {
 public:
  Plan() = default;

  // Merges each exposure's chosen regions (chosen[e] for exposures[e]; exposures sorted by name,
  // a region at most once per exposure) into one plan. Fills summaries[e].units and .shared.
  // labels[e], when given, is parallel to chosen[e]: the peak of each chosen region (a region
  // chosen by several exposures gets their labels merged, in exposure order).
  static Plan assemble(RegionSource source, std::uint64_t window_length, std::vector<std::string> chromosomes,
                       std::vector<std::string> exposures, const std::vector<std::vector<Region>>& chosen,
                       std::vector<ExposureSummary> summaries,
                       const std::vector<std::vector<PeakLabel>>& labels = {});
  // Every region (in canonical order, distinct) is a unit of every exposure: a sweep. labels, when
  // given, is parallel to regions.
  static Plan all_pairs(RegionSource source, std::uint64_t window_length, std::vector<std::string> chromosomes,
                        std::vector<std::string> exposures, std::vector<Region> regions,
                        std::vector<ExposureSummary> summaries, std::vector<PeakLabel> labels = {});

  RegionSource source() const { return source_; }
  std::uint64_t window_length() const { return window_length_; }
  // Names of the FASTA's sequences, indexed by Region::chrom (empty for a sequence file).
  const std::vector<std::string>& chromosomes() const { return chromosomes_; }
  // Exposure names, sorted; Unit::exposure indexes this.
  const std::vector<std::string>& exposures() const { return exposures_; }
  const std::vector<ExposureSummary>& summary() const { return summaries_; }

  std::uint64_t region_count() const { return regions_.size(); }
  const Region& region(std::uint64_t id) const { return regions_[id]; }
  const std::vector<Region>& regions() const { return regions_; }
  // The peak region `id` was centred on (name empty and summit -1 when its source does not say).
  const PeakLabel& label(std::uint64_t id) const;
  // The name a table prints for a region's chromosome: its FASTA sequence, or "row" for a row of a
  // sequence file.
  const std::string& chrom_name(const Region& region) const;

  std::uint64_t unit_count() const { return unit_exposure_.size(); }
  // The units of region r are the ids [first_unit(r), first_unit(r + 1)).
  std::uint64_t first_unit(std::uint64_t region) const { return first_unit_[region]; }
  Unit unit(std::uint64_t id) const;  // O(log regions)
  std::uint32_t unit_exposure(std::uint64_t id) const { return unit_exposure_[id]; }

  // Bytes held by the plan's tables (their capacity).
  std::size_t memory_bytes() const;

 private:
  RegionSource source_ = RegionSource::peaks;
  std::uint64_t window_length_ = 0;
  std::vector<std::string> chromosomes_;
  std::vector<std::string> exposures_;
  std::vector<Region> regions_;
  std::vector<PeakLabel> labels_;             // by region id; empty when no region has a label
  std::vector<std::uint64_t> first_unit_;     // region_count() + 1 offsets into unit_exposure_
  std::vector<std::uint32_t> unit_exposure_;  // exposure of each unit, by unit id
  std::vector<ExposureSummary> summaries_;
};

// regions.bed: "#chrom start end region exposures name summit" header, then one line per region:
// the window (rows of a sequence file: chrom "row", start = row, end = row + 1), its id, its
// exposures joined by commas, and its peak's name and summit ("." and -1 when unknown, as BED and
// narrowPeak write them).
void write_regions_bed(const Plan& plan, std::ostream& out);
// units.tsv: "unit exposure region chrom start end name summit" header, then one line per unit
// with its region's coordinates as in regions.bed (name and summit empty when unknown, as in
// deepmr's other tables).
void write_units_tsv(const Plan& plan, std::ostream& out);

}  // namespace deepmr::genome
