#pragma once
// Readers for the expected-result tables written by tests/model/make_fixtures.py.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace deepmr::test {

// Rows of whitespace-separated fields; lines starting with '#' skipped.
inline std::vector<std::vector<std::string>> read_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<std::string> row;
    std::string field;
    while (fields >> field) row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

inline std::string models_dir() { return std::string(DEEPMR_SOURCE_DIR) + "/tests/data/models"; }

// A fixture model's file, and the window its expected outputs were computed on (first field of
// NAME.outputs.tsv).
inline std::string fixture_model(const std::string& name) { return models_dir() + "/" + name + ".pt"; }
inline std::string fixture_window(const std::string& name) {
  return read_rows(models_dir() + "/" + name + ".outputs.tsv").at(0).at(0);
}

}  // namespace deepmr::test
