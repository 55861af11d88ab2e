#pragma once
// Helpers for the stats tests: the validation data sets and relative comparisons.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "deepmr/stats/instruments.hpp"
#include "test_support.hpp"

namespace deepmr::stats::test {

inline std::string validation_file(const std::string& relative) {
  return deepmr::test::source_dir() + "/tests/data/validation/" + relative;
}

// A reference fixture of tests/stats/fixtures: lines "key<TAB>v1,v2,...", # comments.
inline std::map<std::string, std::vector<double>> read_keyed_values(const std::string& fixture) {
  const std::string path = deepmr::test::source_dir() + "/tests/stats/fixtures/" + fixture;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::map<std::string, std::vector<double>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    std::istringstream fields(line.substr(tab + 1));
    std::string field;
    while (std::getline(fields, field, ',')) out[line.substr(0, tab)].push_back(std::stod(field));
  }
  return out;
}

// A tab-separated file with a header line, as columns of doubles.
inline std::map<std::string, std::vector<double>> read_columns(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  {
    std::istringstream header(line);
    std::string name;
    while (std::getline(header, name, '\t')) names.push_back(name);
  }
  std::map<std::string, std::vector<double>> columns;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream row(line);
    std::string field;
    for (const auto& name : names) {
      std::getline(row, field, '\t');
      columns[name].push_back(std::stod(field));
    }
  }
  return columns;
}

inline Instruments lipid_instruments() {
  auto c = read_columns(validation_file("mr/lipids_ldl_chd.tsv"));
  return Instruments{c["bx"], c["bxse"], c["by"], c["byse"], {}};
}

// |actual - expected| <= tolerance * |expected|, with a readable failure.
inline ::testing::AssertionResult near_relative(const std::optional<double>& actual, double expected,
                                                double tolerance) {
  if (!actual) return ::testing::AssertionFailure() << "value is empty, expected " << expected;
  const double error = std::fabs(*actual - expected);
  if (error <= tolerance * std::fabs(expected)) return ::testing::AssertionSuccess();
  std::ostringstream text;
  text.precision(17);
  text << "actual " << *actual << " vs expected " << expected << " (relative error " << error / std::fabs(expected)
       << " > " << tolerance << ")";
  return ::testing::AssertionFailure() << text.str();
}

#define EXPECT_REL(actual, expected, tolerance) \
  EXPECT_TRUE(::deepmr::stats::test::near_relative((actual), (expected), (tolerance)))

}  // namespace deepmr::stats::test
