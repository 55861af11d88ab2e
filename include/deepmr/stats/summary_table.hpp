#pragma once
// Summary statistics as users keep them: a delimited text table (TSV, or CSV when the header has
// commas and no tabs) with a header line naming the columns, in any order, other columns ignored.
// Blank lines and lines starting with '#' are skipped; fields may be double-quoted (R's write.csv);
// CRLF line ends, a UTF-8 byte-order mark and empty fields past the header's columns (a line ending
// in a delimiter) are accepted. Every problem is an InputError "FILE:LINE: what (what to do)".

#include <cstddef>
#include <string>
#include <vector>

#include "deepmr/stats/instruments.hpp"

namespace deepmr::stats {

class SummaryTable {
 public:
  struct Row {
    long line = 0;  // 1-based line in the file
    std::vector<std::string> fields;
  };

  // Reads the whole file; throws InputError when it cannot be read or is malformed.
  static SummaryTable read(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<Row>& rows() const { return rows_; }
  bool has(const std::string& column) const;
  // The column's index; throws InputError naming the header line and the columns it has.
  std::size_t require(const std::string& column) const;
  // The field as a finite number; throws InputError with the row's line otherwise.
  double number(const Row& row, std::size_t column) const;

 private:
  std::string path_;
  long header_line_ = 0;
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
};

// The instruments of a table with columns bx, bxse, by, byse: every value finite, standard
// errors not negative (InputError with the line otherwise). Zero standard errors are accepted
// here: the methods that cannot use them say so in their result. An optional column psi gives each
// instrument's correlation of its bx and by errors (Instruments::psi), in [-1, 1].
Instruments read_instruments(const SummaryTable& table);

}  // namespace deepmr::stats
