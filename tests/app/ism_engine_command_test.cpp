// The mutagenesis engines through the real binary: deepmr ism --engine, deepmr bench ism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "expected_tables.hpp"
#include "test_support.hpp"

namespace deepmr {
namespace {

using test::quote;
using test::run;
using test::fixture_model;
using test::fixture_window;

TEST(IsmEngineOption, EnginesAgreeAndAutoIsIncremental) {
  const std::string common = test::deepmr_binary() + " ism --threads 1 --model " + quote(fixture_model("kipoi_conv2d")) +
                             " --sequence " + fixture_window("kipoi_conv2d") + " --outputs 1,6 --mc-samples 3 --seed 5";
  auto full = run(common + " --engine full");
  auto incremental = run(common + " --engine incremental");
  auto automatic = run(common);
  ASSERT_EQ(full.status, 0) << full.err;
  ASSERT_EQ(incremental.status, 0) << incremental.err;
  ASSERT_EQ(automatic.status, 0) << automatic.err;
  EXPECT_EQ(automatic.out, incremental.out);
  const auto a = test::tsv_fields(full.out), b = test::tsv_fields(incremental.out);
  ASSERT_EQ(a.size(), 120u * 3 * 2);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (int f = 0; f < 4; ++f) ASSERT_EQ(a[i][f], b[i][f]) << i;
    EXPECT_NEAR(std::stod(a[i][4]), std::stod(b[i][4]), 1e-6) << i;
    EXPECT_NEAR(std::stod(a[i][5]), std::stod(b[i][5]), 1e-6) << i;
  }
}

TEST(IsmEngineOption, UnknownEngineIsAUsageError) {
  auto r = run(test::deepmr_binary() + " ism --model " + quote(fixture_model("conv1d_small")) + " --outputs 0 --sequence " +
               fixture_window("conv1d_small") + " --engine fastest");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("unknown engine 'fastest'"), std::string::npos) << r.err;
}

TEST(BenchIsm, ComparesTheEnginesOnTheSameWindowAndMasks) {
  test::TempDir dir;
  auto r = run(test::deepmr_binary() + " bench ism --threads 1 --model " + quote(fixture_model("batchnorm_elu")) +
               " --outputs 0,2 --mc-samples 2 --stages " + quote(dir.file("stages.tsv")));
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream in(r.out);
  std::string header;
  std::getline(in, header);
  for (const char* column : {"engine", "mutant_evaluations_per_second", "ratio", "max_abs_diff_beta", "max_abs_diff_se",
                             "peak_rss_mib", "gmac_per_mutant_strand"})
    EXPECT_NE(header.find(column), std::string::npos) << column;
  const auto rows = test::tsv_fields(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "full");
  EXPECT_EQ(rows[1][0], "incremental");
  std::vector<std::string> names;
  std::istringstream fields(header);
  for (std::string name; std::getline(fields, name, '\t');) names.push_back(name);
  auto field = [&](int row, const std::string& name) {
    return std::stod(rows[row][std::find(names.begin(), names.end(), name) - names.begin()]);
  };
  EXPECT_EQ(field(0, "ratio"), 1.0);
  EXPECT_GT(field(1, "ratio"), 0.0);
  EXPECT_LT(field(1, "max_abs_diff_beta"), 1e-6);
  EXPECT_LT(field(1, "max_abs_diff_se"), 1e-6);
  EXPECT_GT(field(1, "peak_rss_mib"), 0.0);
  // One row per stage of the incremental engine, layers first.
  const auto stages = test::tsv_fields(test::read_text(dir.file("stages.tsv")));
  ASSERT_GE(stages.size(), 14u);
  EXPECT_EQ(stages[0][0], "incremental");
  EXPECT_NE(stages[0][1].find("conv"), std::string::npos) << stages[0][1];
}

TEST(BenchIsm, JsonAndAPositionRange) {
  auto r = run(test::deepmr_binary() + " bench ism --threads 1 --model " + quote(fixture_model("conv1d_small")) +
               " --outputs 0 --mc-samples 1 --engines incremental,full --positions 10-19 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 3), "[\n ");
  EXPECT_NE(r.out.find("{\"engine\": \"incremental\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"mutants\": 30,"), std::string::npos) << r.out;
  auto bad = run(test::deepmr_binary() + " bench ism --model " + quote(fixture_model("conv1d_small")) + " --outputs 0 --positions 50-70");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("not within the window of 60 bases"), std::string::npos) << bad.err;
}

// --backends: every engine on each backend in one process, one row each, the device column naming
// the backend; the differences to the first row are float32 rounding. --backend with it is refused.
TEST(BenchIsm, BackendsTimesEachEngineOnEachBackend) {
  const std::string common = test::deepmr_binary() + " bench ism --threads 1 --model " +
                             quote(fixture_model("conv1d_small")) + " --outputs 0 --mc-samples 1 --positions 10-19";
  auto r = run(common + " --engines full,incremental --backends kernels,torch");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = test::tsv_fields(r.out);
  ASSERT_EQ(rows.size(), 4u) << r.out;
  const auto header = test::split_tabs(r.out.substr(0, r.out.find('\n')));
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], i % 2 == 0 ? "full" : "incremental");
    EXPECT_NE(rows[i][column("device")].find(i < 2 ? "deepmr kernels" : "LibTorch"), std::string::npos)
        << rows[i][column("device")];
    EXPECT_LE(std::stod(rows[i][column("max_abs_diff_beta")]), 1e-6);
  }
  auto both = run(common + " --backend kernels --backends torch");
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.err.find("give --backend or --backends, not both"), std::string::npos) << both.err;
  auto unknown = run(common + " --backends kernels,gpu");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("option 'backends'"), std::string::npos) << unknown.err;
}

// Several output sets ("0,1;0,1,2,3"): each engine timed with each, one row per (engine, set) with
// its output count; the differences are over the outputs both rows keep, so the same engine with
// more outputs differs by exactly 0 (each output is its own chain of products).
TEST(BenchIsm, SeveralOutputSetsTimeEachEngineWithEach) {
  auto r = run(test::deepmr_binary() + " bench ism --threads 1 --model " + quote(fixture_model("conv1d_small")) +
               " --outputs '0,1;0,1,2,3' --mc-samples 2 --engines incremental,full --positions 10-19 --format tsv");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = test::tsv_fields(r.out);
  ASSERT_EQ(rows.size(), 4u) << r.out;
  const std::vector<std::string> engines = {"incremental", "incremental", "full", "full"}, outputs = {"2", "4", "2", "4"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], engines[i]);
    EXPECT_EQ(rows[i][1], outputs[i]);
  }
  const auto header = test::split_tabs(r.out.substr(0, r.out.find('\n')));
  const auto diff = static_cast<std::size_t>(std::find(header.begin(), header.end(), "max_abs_diff_beta") - header.begin());
  ASSERT_LT(diff, header.size());
  EXPECT_EQ(rows[1][diff], "0");
  auto bad = run(test::deepmr_binary() + " bench ism --model " + quote(fixture_model("conv1d_small")) + " --outputs '0;'");
  EXPECT_EQ(bad.status, 2) << bad.err;
}

}  // namespace
}  // namespace deepmr
