#include "deepmr/stats/summary_table.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <utility>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

std::vector<std::string> split(const std::string& line, char delimiter) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(delimiter, start);
    std::string field = trim(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
    fields.push_back(field);
    if (end == std::string::npos) return fields;
    start = end + 1;
  }
}

}  // namespace

SummaryTable SummaryTable::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(at(path) + "cannot read the file (check the path given to --input)");
  SummaryTable table;
  table.path_ = path;
  std::string raw;
  long line = 0;
  char delimiter = '\t';
  while (std::getline(in, raw)) {
    ++line;
    // Editors on Windows may start a UTF-8 file with a byte-order mark; it is not part of the text.
    if (line == 1 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.erase(0, 3);
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const std::string text = trim(raw);
    if (text.empty() || text.front() == '#') continue;
    if (table.columns_.empty()) {
      delimiter = raw.find('\t') == std::string::npos && raw.find(',') != std::string::npos ? ',' : '\t';
      table.columns_ = split(text, delimiter);
      table.header_line_ = line;
      for (std::size_t i = 0; i < table.columns_.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
          if (table.columns_[i] == table.columns_[j])
            throw InputError(at(path, line) + "column '" + table.columns_[i] + "' appears twice in the header");
      continue;
    }
    // Split the line as it is, not trimmed: a missing value in the last column is an empty field.
    Row row{line, split(raw, delimiter)};
    // Empty fields past the header's columns (a line ending in a delimiter) hold nothing.
    while (row.fields.size() > table.columns_.size() && row.fields.back().empty()) row.fields.pop_back();
    if (row.fields.size() != table.columns_.size())
      throw InputError(at(path, line) + std::to_string(row.fields.size()) + " fields, but the header (line " +
                       std::to_string(table.header_line_) + ") has " + std::to_string(table.columns_.size()) +
                       " (check the delimiter and missing values)");
    table.rows_.push_back(std::move(row));
  }
  if (table.columns_.empty()) throw InputError(at(path) + "no header line (the file is empty or all comments)");
  return table;
}

bool SummaryTable::has(const std::string& column) const {
  for (const auto& c : columns_)
    if (c == column) return true;
  return false;
}

std::size_t SummaryTable::require(const std::string& column) const {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i] == column) return i;
  std::string present;
  for (const auto& c : columns_) present += (present.empty() ? "'" : ", '") + c + "'";
  throw InputError(at(path_, header_line_) + "no column '" + column + "' in the header (it has " + present + ")");
}

double SummaryTable::number(const Row& row, std::size_t column) const {
  const std::string& text = row.fields[column];
  double value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (!text.empty() && *begin == '+') ++begin;  // from_chars does not take a leading '+'
  const auto result = std::from_chars(begin, end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end)
    throw InputError(at(path_, row.line) + "column '" + columns_[column] + "': '" + text +
                     "' is not a number (missing values are not allowed: remove the row)");
  if (!std::isfinite(value))
    throw InputError(at(path_, row.line) + "column '" + columns_[column] + "': '" + text +
                     "' is not a finite number (remove the row)");
  return value;
}

Instruments read_instruments(const SummaryTable& table) {
  const std::size_t bx = table.require("bx"), bxse = table.require("bxse");
  const std::size_t by = table.require("by"), byse = table.require("byse");
  const bool with_psi = table.has("psi");
  const std::size_t psi = with_psi ? table.require("psi") : 0;
  Instruments instruments;
  instruments.reserve(table.rows().size());
  for (const auto& row : table.rows()) {
    const double values[4] = {table.number(row, bx), table.number(row, bxse), table.number(row, by),
                              table.number(row, byse)};
    for (const auto& [column, value] : {std::pair{bxse, values[1]}, std::pair{byse, values[3]}})
      if (value < 0)
        throw InputError(at(table.path(), row.line) + "column '" + table.columns()[column] + "' is negative (" +
                         row.fields[column] + "): a standard error must be >= 0");
    if (!with_psi) {
      instruments.push_back(values[0], values[1], values[2], values[3]);
      continue;
    }
    const double correlation = table.number(row, psi);
    if (correlation < -1 || correlation > 1)
      throw InputError(at(table.path(), row.line) + "column 'psi' is " + row.fields[psi] +
                       ": a correlation must lie in [-1, 1]");
    instruments.push_back(values[0], values[1], values[2], values[3], correlation);
  }
  return instruments;
}

}  // namespace deepmr::stats
