#include "deepmr/app/table.hpp"

#include <charconv>
#include <cmath>
#include <ostream>

#include "deepmr/common/error.hpp"

namespace deepmr::app {

TableFormat parse_table_format(const std::string& text, const std::string& option) {
  if (text == "tsv") return TableFormat::tsv;
  if (text == "json") return TableFormat::json;
  throw UsageError("option '" + option + "': unknown format '" + text + "' (use tsv or json)");
}

std::string format_number(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string format_float(float value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

Table::Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void Table::add_row() { rows_.emplace_back(columns_.size()); }

std::size_t Table::column_index(const std::string& column) const {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i] == column) return i;
  throw InternalError("table has no column '" + column + "'");
}

void Table::set(const std::string& column, const std::string& value) {
  if (rows_.empty()) throw InternalError("Table::set before add_row");
  rows_.back()[column_index(column)] = value;
}

void Table::set(const std::string& column, double value) {
  if (rows_.empty()) throw InternalError("Table::set before add_row");
  if (std::isfinite(value)) rows_.back()[column_index(column)] = value;
  else rows_.back()[column_index(column)] = std::monostate{};
}

void Table::set(const std::string& column, long long value) {
  if (rows_.empty()) throw InternalError("Table::set before add_row");
  rows_.back()[column_index(column)] = value;
}

void Table::set(const std::string& column, std::optional<double> value) {
  if (value) set(column, *value);
  else if (rows_.empty()) throw InternalError("Table::set before add_row");
  else rows_.back()[column_index(column)] = std::monostate{};
}

namespace {

std::string tsv_text(const Table::Cell& cell) {
  if (auto* s = std::get_if<std::string>(&cell)) {
    std::string out = *s;
    for (auto& c : out)
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return out;
  }
  if (auto* d = std::get_if<double>(&cell)) return format_number(*d);
  if (auto* i = std::get_if<long long>(&cell)) return std::to_string(*i);
  return "";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string json_text(const Table::Cell& cell) {
  if (auto* s = std::get_if<std::string>(&cell)) return json_string(*s);
  if (auto* d = std::get_if<double>(&cell)) return format_number(*d);
  if (auto* i = std::get_if<long long>(&cell)) return std::to_string(*i);
  return "null";
}

}  // namespace

void Table::write(std::ostream& out, TableFormat format) const {
  if (format == TableFormat::tsv) {
    for (std::size_t c = 0; c < columns_.size(); ++c) out << (c ? "\t" : "") << columns_[c];
    out << "\n";
    for (const auto& row : rows_) {
      for (std::size_t c = 0; c < row.size(); ++c) out << (c ? "\t" : "") << tsv_text(row[c]);
      out << "\n";
    }
    return;
  }
  out << "[";
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    out << (r ? ",\n " : "\n ") << "{";
    for (std::size_t c = 0; c < columns_.size(); ++c)
      out << (c ? ", " : "") << json_string(columns_[c]) << ": " << json_text(rows_[r][c]);
    out << "}";
  }
  out << (rows_.empty() ? "]\n" : "\n]\n");
}

}  // namespace deepmr::app
