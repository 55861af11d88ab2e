// The store schema is written once (store/schema.cpp, stats/result_columns.cpp); the Python reader's
// copy (analysis/deepmr_store/schema.json) must be exactly what the C++ definitions give.

#include <gtest/gtest.h>

#include <set>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/result_columns.hpp"
#include "deepmr/store/schema.hpp"
#include "test_support.hpp"

namespace deepmr::store {
namespace {

TEST(StoreSchema, PythonReaderSchemaIsTheCppSchema) {
  const std::string path = test::source_dir() + "/analysis/deepmr_store/schema.json";
  EXPECT_EQ(test::read_text(path), schema_json())
      << path << " is out of date: regenerate it from store::schema_json() (see docs/store.md)";
}

TEST(StoreSchema, ColumnsComeFromTheResultColumns) {
  ASSERT_EQ(fit_columns().size(), stats::mr_columns().size());
  for (std::size_t c = 0; c < fit_columns().size(); ++c) EXPECT_EQ(fit_columns()[c], stats::mr_columns()[c].name);
  ASSERT_EQ(meta_columns().size(), stats::meta_columns().size());
  EXPECT_EQ(meta_columns().front(), "k");
  EXPECT_EQ(fit_column_index("estimate"), 0u);
  EXPECT_EQ(fit_column_index("n_used"), fit_columns().size() - 5);
  EXPECT_EQ(fit_column_index("pvalue_jackknife"), fit_columns().size() - 1);
  EXPECT_THROW(fit_column_index("nope"), InternalError);
}

TEST(StoreSchema, AttributesAreListedOnceWithTheirTypes) {
  std::set<std::string> names;
  for (const auto& a : store_attributes()) EXPECT_TRUE(names.insert(a.name).second) << a.name << " listed twice";
  EXPECT_EQ(attribute_type("units_done"), ValueType::int64);
  EXPECT_EQ(attribute_type("main_loop_seconds"), ValueType::float64);
  EXPECT_EQ(attribute_type("model_sha256"), ValueType::text);
  EXPECT_THROW(attribute_type("store_state"), InternalError);  // read once, written never: gone
}

TEST(StoreSchema, StatusCodesAreTheStoredOnes) {
  EXPECT_EQ(static_cast<int>(FitStatus::pending), 0);
  EXPECT_EQ(static_cast<int>(FitStatus::ok), 1);
  EXPECT_EQ(static_cast<int>(FitStatus::not_estimable), 2);
  EXPECT_EQ(static_cast<int>(FitStatus::failed), 3);
  EXPECT_STREQ(status_name(FitStatus::not_estimable), "not_estimable");
}

}  // namespace
}  // namespace deepmr::store
