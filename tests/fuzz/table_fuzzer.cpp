// Feeds bytes as the summary-statistics table of `deepmr mr --input` and `deepmr meta --input`
// (TSV or CSV): SummaryTable::read, the instruments of `mr` (bx, bxse, by, byse) and the numbers of
// `meta`'s estimate and se columns, as those commands read them.

#include <cstdint>

#include "deepmr/stats/summary_table.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace deepmr;
  const std::string path = fuzz::write_file("input.tsv", data, size);
  fuzz::expect_clean([&] {
    const auto table = stats::SummaryTable::read(path);
    fuzz::expect_clean([&] { stats::read_instruments(table); });
    fuzz::expect_clean([&] {
      const std::size_t estimate = table.require("estimate"), se = table.require("se");
      for (const auto& row : table.rows()) {
        table.number(row, estimate);
        table.number(row, se);
      }
    });
  });
  return 0;
}
