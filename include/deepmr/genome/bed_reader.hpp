#pragma once
// BED (BED3 and more columns) and ENCODE narrowPeak readers, plain or gzip. Coordinates are
// 0-based, half-open, as in the files. `track`, `browser` and `#` lines and blank lines are skipped.
// Columns are separated by tabs (by runs of blanks on a line that has no tab); empty fields past
// the columns read (a line ending in a tab) are ignored, and so is a UTF-8 byte-order mark.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deepmr/genome/text_reader.hpp"

namespace deepmr::genome {

enum class PeakFormat {
  automatic,    // narrowPeak when the name ends in .narrowPeak or .narrowPeak.gz, else BED
  bed,          // at least 3 columns: chrom, start, end
  narrow_peak,  // exactly ENCODE's 10 columns; column 10 is the summit offset (-1: none)
};

// "auto", "bed" or "narrowpeak"; throws UsageError naming `option` otherwise.
PeakFormat parse_peak_format(std::string_view text, const std::string& option = "format");
// Resolves `automatic` from the file name.
PeakFormat resolve_peak_format(PeakFormat format, const std::string& path);

// One data line. The string views point into the reader's buffer: valid until the next read.
struct BedRecord {
  std::string_view chrom;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::string_view name;                 // column 4, empty when absent
  std::optional<std::uint64_t> summit;   // narrowPeak: summit offset from start; none for -1 or BED
  // narrowPeak columns 5 to 9 (these defaults on BED lines)
  double score = 0;
  char strand = '.';
  double signal_value = 0;
  double p_value = -1;
  double q_value = -1;
  std::size_t columns = 0;
  long line = 0;  // 1-based line in the file
};

class BedReader {
 public:
  // Throws InputError when the file cannot be read.
  BedReader(const std::string& path, PeakFormat format = PeakFormat::automatic);

  // Reads the next data line; false at the end. Throws InputError (file:line) on a line with too
  // few columns, a coordinate that is not a non-negative integer, start > end, a bad summit.
  bool next(BedRecord& record);

  const std::string& path() const { return reader_.path(); }
  PeakFormat format() const { return format_; }
  std::uint64_t records() const { return records_; }

 private:
  TextReader reader_;
  PeakFormat format_;
  std::uint64_t records_ = 0;
  std::vector<std::string_view> fields_;
};

}  // namespace deepmr::genome
