#pragma once
// Reading the TSV tables that `deepmr mr` and `deepmr meta` print, for the end-to-end tests.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace deepmr::test {

using TsvRow = std::map<std::string, std::string>;

// The header line's columns, and one map per row.
inline std::vector<TsvRow> parse_tsv(const std::string& text, std::vector<std::string>* header = nullptr) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const auto columns = split_tabs(line);
  if (header) *header = columns;
  std::vector<TsvRow> rows;
  while (std::getline(in, line)) {
    const auto fields = split_tabs(line);
    EXPECT_EQ(fields.size(), columns.size()) << line;
    TsvRow row;
    for (std::size_t i = 0; i < columns.size() && i < fields.size(); ++i) row[columns[i]] = fields[i];
    rows.push_back(row);
  }
  return rows;
}

// The data lines of a TSV file (after its header), as text fields.
inline std::vector<std::vector<std::string>> read_tsv_fields(const std::string& path) {
  return tsv_fields(read_text(path));
}

inline double field_number(const TsvRow& row, const std::string& column) {
  const auto it = row.find(column);
  if (it == row.end() || it->second.empty()) {
    ADD_FAILURE() << "column '" << column << "' is missing or empty";
    return 0;
  }
  return std::stod(it->second);
}

inline ::testing::AssertionResult near_relative(double actual, double expected, double tolerance) {
  if (std::fabs(actual - expected) <= tolerance * std::fabs(expected)) return ::testing::AssertionSuccess();
  std::ostringstream text;
  text.precision(17);
  text << actual << " vs expected " << expected;
  return ::testing::AssertionFailure() << text.str();
}

}  // namespace deepmr::test
