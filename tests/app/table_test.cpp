#include "deepmr/app/table.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

Table sample() {
  Table t({"method", "estimate", "n_used", "status"});
  t.add_row();
  t.set("method", "egger");
  t.set("estimate", 3.25289013194081);
  t.set("n_used", 28);
  t.add_row();
  t.set("method", "ivw \"x\"");
  t.set("estimate", std::nan(""));
  t.set("status", "not estimable: fewer than 2 instruments");
  return t;
}

TEST(Table, TsvHasHeaderAndEmptyFieldsForMissingValues) {
  std::ostringstream out;
  sample().write(out, TableFormat::tsv);
  EXPECT_EQ(out.str(),
            "method\testimate\tn_used\tstatus\n"
            "egger\t3.25289013194081\t28\t\n"
            "ivw \"x\"\t\t\tnot estimable: fewer than 2 instruments\n");
}

TEST(Table, JsonIsAnArrayOfObjectsWithNulls) {
  std::ostringstream out;
  sample().write(out, TableFormat::json);
  EXPECT_EQ(out.str(),
            "[\n {\"method\": \"egger\", \"estimate\": 3.25289013194081, \"n_used\": 28, \"status\": null},\n"
            " {\"method\": \"ivw \\\"x\\\"\", \"estimate\": null, \"n_used\": null, \"status\": "
            "\"not estimable: fewer than 2 instruments\"}\n]\n");
}

TEST(Table, NumbersRoundTripExactly) {
  for (double v : {0.1, 1.0 / 3.0, -2.5e-300, 6.02214076e23, 2.83421393887889}) {
    EXPECT_EQ(std::stod(format_number(v)), v);
  }
  EXPECT_EQ(format_number(0.1), "0.1");
}

TEST(Table, UnknownFormatIsAUsageError) {
  EXPECT_THROW(parse_table_format("csv"), UsageError);
  EXPECT_EQ(parse_table_format("json"), TableFormat::json);
}

}  // namespace
}  // namespace deepmr::app
