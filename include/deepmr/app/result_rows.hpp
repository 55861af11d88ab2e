#pragma once
// Table rows from MR and meta-analysis results, through the one list of their columns
// (stats/result_columns.hpp): `deepmr mr` and `deepmr meta` print exactly the store's columns.

#include <string>
#include <vector>

#include "deepmr/app/table.hpp"
#include "deepmr/stats/result_columns.hpp"

namespace deepmr::app {

template <typename Result>
std::vector<std::string> column_names(const std::vector<stats::ResultColumn<Result>>& columns) {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  return names;
}

// Sets every column of the current row; count columns as whole numbers.
template <typename Result>
void set_columns(Table& table, const std::vector<stats::ResultColumn<Result>>& columns, const Result& result) {
  for (const auto& c : columns) {
    const auto value = c.value(result);
    if (c.kind == stats::ColumnKind::count && value) table.set(c.name, static_cast<long long>(*value));
    else table.set(c.name, value);
  }
}

}  // namespace deepmr::app
