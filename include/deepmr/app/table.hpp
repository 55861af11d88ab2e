#pragma once
// A table printed by a command, as TSV (header line, tab-separated, empty field for a missing
// value) or as JSON (an array of objects; numbers unquoted, missing values null). Numbers are
// written in the shortest form that reads back to the same double.

#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace deepmr::app {

enum class TableFormat { tsv, json };

// Parses "tsv" or "json"; throws UsageError naming the option otherwise.
TableFormat parse_table_format(const std::string& text, const std::string& option = "format");

class Table {
 public:
  using Cell = std::variant<std::monostate, std::string, double, long long>;

  explicit Table(std::vector<std::string> columns);

  // Starts a new row; cells are then set by column name (unset cells stay missing).
  void add_row();
  void set(const std::string& column, const std::string& value);
  void set(const std::string& column, const char* value) { set(column, std::string(value)); }
  void set(const std::string& column, double value);  // NaN or infinite: missing
  void set(const std::string& column, long long value);
  void set(const std::string& column, int value) { set(column, static_cast<long long>(value)); }
  void set(const std::string& column, std::size_t value) { set(column, static_cast<long long>(value)); }
  void set(const std::string& column, std::optional<double> value);

  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t rows() const { return rows_.size(); }

  void write(std::ostream& out, TableFormat format) const;

 private:
  std::size_t column_index(const std::string& column) const;
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// Shortest decimal text that reads back to exactly `value`.
std::string format_number(double value);
// The same for a float (the store's per-mutant effects): shortest text that reads back as this float.
std::string format_float(float value);

}  // namespace deepmr::app
