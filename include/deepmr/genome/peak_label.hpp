#pragma once
// The peak a region was centred on, as its peak or BED file names it: what tables print beside a
// region's coordinates so that a reader can find it in the input (docs/genome.md).

#include <cstdint>
#include <string>
#include <string_view>

namespace deepmr::genome {

struct PeakLabel {
  static constexpr std::int64_t kNoSummit = -1;

  std::string name;                 // column 4 of the peak or BED file; empty when absent or "."
  std::int64_t summit = kNoSummit;  // 0-based position on the chromosome (narrowPeak start + column 10)

  bool known() const { return !name.empty() || summit != kNoSummit; }
  bool operator==(const PeakLabel& other) const { return name == other.name && summit == other.summit; }
};

// The label of a BED or narrowPeak line: "." (BED's "no name") is no name.
PeakLabel peak_label(std::string_view name, std::int64_t summit);

// One region reached from several peaks (duplicates in one file, or the same window in several
// exposures' files): the distinct names in the order met, joined by commas, and the first summit
// known (windows are centred on the summit, so the peaks of one window share it).
void merge_label(PeakLabel& into, const PeakLabel& other);

}  // namespace deepmr::genome
