#pragma once
// The per-region MR estimates of a store as BED (deepmr export --format bed, docs/export.md): a
// track line, a header line, then one BED9 line per computed unit (chrom, start, end, the exposure
// as name, a score from the p-value, strand ".", the summit as thick part, a colour by the
// estimate's sign) followed by named columns: exposure method estimate se ci_low ci_high pvalue
// status peak summit region unit.

#include <cstddef>
#include <iosfwd>
#include <vector>

#include "deepmr/store/store_reader.hpp"

namespace deepmr::app {

// The units of the selected exposures (selected[e]) that are done or failed (a partial store's
// pending units are left out); returns how many lines were written.
std::size_t write_estimates_bed(const store::StoreContents& store, std::size_t method, const std::vector<bool>& selected,
                                std::ostream& out);

// BED score (0-1000) of a p-value: -10 log10(p), as MACS2 scores peaks, capped at 1000; 0 when
// the p-value is missing.
int bed_score(double pvalue);

}  // namespace deepmr::app
