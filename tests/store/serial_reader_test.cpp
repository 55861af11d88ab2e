// The store's reader half built against the serial HDF5, with no MPI on its include or link paths
// (target deepmr_store_reader_serial), reads a store that `deepmr run` wrote through MPI-IO, and
// reads what the binary's own reader prints with `deepmr summarize --units`.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "deepmr/store/store_reader.hpp"
#include "test_support.hpp"

namespace deepmr::store {
namespace {

TEST(SerialStoreReader, ThisProcessHasNoMpiLibrary) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) EXPECT_EQ(line.find("libmpi"), std::string::npos) << line;
}

TEST(SerialStoreReader, ReadsAStoreTheParallelWriterWrote) {
  test::TempDir dir("serial-reader");
  const std::string store = dir.file("tiny.h5");
  const auto run = test::run("cd " + test::quote(test::source_dir()) + " && " + test::quote(test::deepmr_binary()) +
                             " run --config configs/test_tiny.ini --run.store " + test::quote(store));
  ASSERT_EQ(run.status, 0) << run.err;
  const auto s = read_store(store);
  EXPECT_EQ(s.int_attributes.at("complete"), 1);
  EXPECT_EQ(s.int_attributes.at("units_done"), s.int_attributes.at("units_total"));
  EXPECT_EQ(s.text_attributes.at("methods"), "egger,ivw,median-weighted");

  const auto units = test::run(test::quote(test::deepmr_binary()) + " summarize " + test::quote(store) +
                               " --units --format tsv");
  ASSERT_EQ(units.status, 0) << units.err;
  const auto rows = test::tsv_fields(units.out);
  ASSERT_EQ(rows.size(), s.unit_region.size() * s.methods.size());
  const auto header = test::split_tabs(units.out.substr(0, units.out.find('\n')));
  auto column = [&](const std::string& name) {
    for (std::size_t c = 0; c < header.size(); ++c)
      if (header[c] == name) return c;
    ADD_FAILURE() << "no column " << name;
    return std::size_t{0};
  };
  std::size_t row = 0;
  for (std::size_t u = 0; u < s.unit_region.size(); ++u)
    for (std::size_t m = 0; m < s.methods.size(); ++m, ++row) {
      EXPECT_EQ(rows[row][column("region")], std::to_string(s.unit_region[u]));
      EXPECT_EQ(rows[row][column("method")], s.methods[m]);
      for (std::size_t c = 0; c < fit_columns().size(); ++c) {
        const double value = s.fits[m][c][u];
        const std::string& printed = rows[row][column(fit_columns()[c])];
        if (std::isnan(value)) EXPECT_EQ(printed, "");
        else EXPECT_EQ(std::stod(printed), value) << fit_columns()[c] << " of unit " << u;  // shortest round trip
      }
    }
}

}  // namespace
}  // namespace deepmr::store
