#pragma once
// Regions as people type them: "chr1:1001-2000" (1-based, inclusive, as samtools writes regions;
// commas allowed in the numbers).

#include <cstdint>
#include <string>

namespace deepmr::genome {

// 0-based half-open.
struct RegionString {
  std::string chrom;
  std::uint64_t start = 0, end = 0;
};

// UsageError naming `option` when the text is not CHR:START-END with 1 <= START <= END.
RegionString parse_region_string(const std::string& text, const std::string& option);

}  // namespace deepmr::genome
