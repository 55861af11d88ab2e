// Meta-analysis diagnostics against metafor 3.8-1 (R 4.2.2): the values in
// tests/stats/fixtures/metafor_diagnostics.tsv, written by fixtures/metafor_diagnostics.R (its
// header says how to regenerate it) from the validation data sets in tests/data/validation/meta.
// Fits are compared at 1e-9 relative, including ML, REML and EB: Fisher scoring follows metafor's
// path step for step (same start, steps, step halving and stopping rule), so it stops at the same
// iterate (measured agreement <= 1e-12). PM differs: metafor's uniroot stops within ~1e-4 in tau^2
// where deepmr solves exactly, so 1e-3 (measured <= 1e-3 on cook.d); the Q-profile bounds are compared
// to metafor run with tol = 1e-13 at 1e-9, and to its default output within uniroot's tolerance.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "deepmr/stats/meta_diagnostics.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

using test::near_relative;

const std::map<std::string, double>& metafor() {
  static const std::map<std::string, double> values = [] {
    std::map<std::string, double> out;
    std::ifstream in(deepmr::test::source_dir() + "/tests/stats/fixtures/metafor_diagnostics.tsv");
    if (!in) throw std::runtime_error("cannot read metafor_diagnostics.tsv");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream row(line);
      std::string name, quantity, index, value;
      std::getline(row, name, '\t');
      std::getline(row, quantity, '\t');
      std::getline(row, index, '\t');
      std::getline(row, value, '\t');
      out[name + "/" + quantity + "/" + index] = value == "NA" ? std::nan("") : std::stod(value);
    }
    return out;
  }();
  return values;
}

double expected(const std::string& name, const std::string& quantity, std::size_t index = 0) {
  const auto it = metafor().find(name + "/" + quantity + "/" + std::to_string(index));
  if (it == metafor().end()) throw std::runtime_error("no metafor value " + name + "/" + quantity);
  return it->second;
}

// Agreement with metafor, where an exact 0 is compared absolutely.
::testing::AssertionResult matches(const std::optional<double>& actual, double want, double tolerance) {
  if (want == 0) {
    if (actual && std::fabs(*actual) <= 1e-12) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected 0, got " << (actual ? std::to_string(*actual) : "empty");
  }
  return near_relative(actual, want, tolerance);
}

// metafor's default Q-profile bounds: uniroot stops within tol = eps^0.25 (~1.2e-4) in tau^2, which
// carries to tau, I^2 and H^2 through their derivatives; compare tau^2 absolutely at that tolerance
// and the others at 1e-3 relative (the exact bounds are compared at 1e-9 above).
::testing::AssertionResult within_uniroot(const std::optional<double>& actual, double want, const std::string& key) {
  if (key != "tau2") return matches(actual, want, 1e-3);
  const double tolerance = std::pow(2.220446049250313e-16, 0.25);
  if (actual && std::fabs(*actual - want) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "tau^2 bound " << (actual ? std::to_string(*actual) : "empty") << " vs metafor "
                                       << want << " beyond uniroot's tolerance";
}

struct Case {
  std::string name, data;
  Tau2Method method;
  std::size_t rows;  // 0: all
  bool knha;
  double tolerance;  // for the fits (see the header)
};

struct Data {
  std::vector<double> y, v;
};

Data load(const Case& c) {
  auto columns = test::read_columns(c.data == "homogeneous"
                                        ? deepmr::test::source_dir() + "/tests/stats/fixtures/homogeneous.tsv"
                                        : test::validation_file("meta/" + c.data + ".tsv"));
  Data d{columns["estimate"], columns["variance"]};
  if (c.rows) {
    d.y.resize(c.rows);
    d.v.resize(c.rows);
  }
  return d;
}

MetaOptions options_of(const Case& c) {
  MetaOptions o;
  o.tau2_method = c.method;
  o.knha = c.knha;
  return o;
}

const std::vector<Case> kCases = {
    {"bcg_DL", "bcg_log_rr", Tau2Method::dl, 0, false, 1e-9},
    {"bcg_REML", "bcg_log_rr", Tau2Method::reml, 0, false, 1e-9},
    {"bcg_REML_knha", "bcg_log_rr", Tau2Method::reml, 0, true, 1e-9},
    {"bcg_PM", "bcg_log_rr", Tau2Method::pm, 0, false, 1e-3},
    {"bcg_ML", "bcg_log_rr", Tau2Method::ml, 0, false, 1e-9},
    {"bcg_HE", "bcg_log_rr", Tau2Method::he, 0, false, 1e-9},
    {"bcg_SJ", "bcg_log_rr", Tau2Method::sj, 0, false, 1e-9},
    {"bcg_EB", "bcg_log_rr", Tau2Method::eb, 0, false, 1e-9},
    {"clasp_DL", "clasp", Tau2Method::dl, 0, false, 1e-9},
    {"raud_REML", "raudenbush1985", Tau2Method::reml, 0, false, 1e-9},
    {"raud_DL", "raudenbush1985", Tau2Method::dl, 0, false, 1e-9},
    {"homog_DL", "homogeneous", Tau2Method::dl, 0, false, 1e-9},  // Q-profile null set
    {"bcg3_DL", "bcg_log_rr", Tau2Method::dl, 3, false, 1e-9},
    {"bcg3_REML", "bcg_log_rr", Tau2Method::reml, 3, false, 1e-9},
    {"bcg2_DL", "bcg_log_rr", Tau2Method::dl, 2, false, 1e-9},
    {"bcg2_REML", "bcg_log_rr", Tau2Method::reml, 2, false, 1e-9},
};

// The made-up homogeneous data are there for the Q-profile null set only: their deletion
// differences and Egger slope are rounding noise (metafor's are ~1e-16), nothing to compare.
const char* const kNoiseOnly = "only the Q-profile interval is meaningful on these data";

class Metafor : public ::testing::TestWithParam<Case> {};

TEST_P(Metafor, QProfileIntervalForTau2) {
  const Case& c = GetParam();
  const Data d = load(c);
  const Tau2Interval ci = tau2_q_profile(d.y, d.v, options_of(c));
  ASSERT_TRUE(ci.estimable) << ci.reason;
  EXPECT_EQ(ci.null_set, expected(c.name, "ci_null") == 1);
  const std::vector<std::pair<std::string, std::pair<const std::optional<double>*, const std::optional<double>*>>>
      rows = {{"tau2", {&ci.tau2_low, &ci.tau2_high}},
              {"tau", {&ci.tau_low, &ci.tau_high}},
              {"i2", {&ci.i2_low, &ci.i2_high}},
              {"h2", {&ci.h2_low, &ci.h2_high}}};
  const bool beyond = expected(c.name, "tau2_ci_high_exact") >= ci.tau2_max;  // metafor: "> tau2.max"
  for (const auto& [key, bounds] : rows) {
    EXPECT_TRUE(matches(*bounds.first, expected(c.name, key + "_ci_low_exact"), 1e-9)) << key;
    EXPECT_TRUE(within_uniroot(*bounds.first, expected(c.name, key + "_ci_low"), key)) << key;
    if (beyond) {
      EXPECT_FALSE(*bounds.second) << key << ": metafor reports the search limit, here the bound is empty";
    } else {
      EXPECT_TRUE(matches(*bounds.second, expected(c.name, key + "_ci_high_exact"), 1e-9)) << key;
      EXPECT_TRUE(within_uniroot(*bounds.second, expected(c.name, key + "_ci_high"), key)) << key;
    }
  }
  EXPECT_EQ(ci.note.empty(), !beyond);
}

TEST_P(Metafor, LeaveOneOut) {
  const Case& c = GetParam();
  if (c.name == "homog_DL") GTEST_SKIP() << kNoiseOnly;
  const Data d = load(c);
  const auto fits = leave_one_out(d.y, d.v, options_of(c));
  ASSERT_EQ(fits.size(), d.y.size());
  for (std::size_t i = 0; i < fits.size(); ++i) {
    const MetaResult& r = fits[i];
    ASSERT_TRUE(r.estimable) << r.reason;
    const std::size_t n = i + 1;
    EXPECT_TRUE(matches(r.estimate, expected(c.name, "l1o_estimate", n), c.tolerance)) << i;
    EXPECT_TRUE(matches(r.se, expected(c.name, "l1o_se", n), c.tolerance)) << i;
    EXPECT_TRUE(matches(r.pvalue, expected(c.name, "l1o_pval", n), 10 * c.tolerance)) << i;
    EXPECT_TRUE(matches(r.ci_low, expected(c.name, "l1o_ci.lb", n), c.tolerance)) << i;
    EXPECT_TRUE(matches(r.ci_high, expected(c.name, "l1o_ci.ub", n), c.tolerance)) << i;
    if (r.k == 1) {
      // One study left: metafor reports Q = 0, tau^2 = 0, I^2 = 0, H^2 = 1; MetaResult leaves them
      // empty (docs/statistics.md).
      EXPECT_EQ(expected(c.name, "l1o_tau2", n), 0);
      EXPECT_FALSE(r.tau2);
      EXPECT_FALSE(r.i2);
      continue;
    }
    EXPECT_TRUE(matches(r.q, expected(c.name, "l1o_Q", n), 1e-9)) << i;
    EXPECT_TRUE(matches(r.q_pvalue, expected(c.name, "l1o_Qp", n), 1e-8)) << i;
    EXPECT_TRUE(matches(r.tau2, expected(c.name, "l1o_tau2", n), c.tolerance)) << i;
    EXPECT_TRUE(matches(r.i2, expected(c.name, "l1o_I2", n), c.tolerance)) << i;
    EXPECT_TRUE(matches(r.h2, expected(c.name, "l1o_H2", n), c.tolerance)) << i;
  }
}

TEST_P(Metafor, Influence) {
  const Case& c = GetParam();
  if (c.name == "homog_DL") GTEST_SKIP() << kNoiseOnly;
  const Data d = load(c);
  const Influence inf = influence(d.y, d.v, options_of(c));
  ASSERT_TRUE(inf.estimable) << inf.reason;
  ASSERT_EQ(inf.studies.size(), d.y.size());
  // Deletion statistics are differences of fits: rounding grows by the ratio of the fit to the
  // difference (measured <= 1e-12), PM's uniroot error likewise (measured 9.8e-4 on cook.d).
  const double tolerance = c.tolerance == 1e-9 ? 1e-8 : 2 * c.tolerance;
  for (std::size_t i = 0; i < inf.studies.size(); ++i) {
    const StudyInfluence& s = inf.studies[i];
    ASSERT_TRUE(s.reason.empty()) << s.reason;
    const std::size_t n = i + 1;
    EXPECT_TRUE(matches(s.rstudent, expected(c.name, "inf_rstudent", n), tolerance)) << i;
    EXPECT_TRUE(matches(s.dffits, expected(c.name, "inf_dffits", n), tolerance)) << i;
    EXPECT_TRUE(matches(s.cook_d, expected(c.name, "inf_cook.d", n), tolerance)) << i;
    EXPECT_TRUE(matches(s.cov_r, expected(c.name, "inf_cov.r", n), tolerance)) << i;
    EXPECT_TRUE(matches(s.tau2_del, expected(c.name, "inf_tau2.del", n), tolerance)) << i;
    EXPECT_TRUE(matches(s.qe_del, expected(c.name, "inf_QE.del", n), 1e-9)) << i;
    EXPECT_TRUE(matches(s.hat, expected(c.name, "inf_hat", n), tolerance)) << i;
    EXPECT_TRUE(matches(s.weight, expected(c.name, "inf_weight", n), tolerance)) << i;
    EXPECT_EQ(s.influential, expected(c.name, "inf_influential", n) == 1) << i;
  }
}

TEST_P(Metafor, EggerRegressionTest) {
  const Case& c = GetParam();
  if (c.name == "homog_DL") GTEST_SKIP() << kNoiseOnly;
  const Data d = load(c);
  const EggerTest e = egger_regression_test(d.y, d.v, options_of(c));
  if (d.y.size() < 3) {
    EXPECT_FALSE(e.estimable);  // metafor refuses too: no degrees of freedom left
    EXPECT_FALSE(e.reason.empty());
    return;
  }
  ASSERT_TRUE(e.estimable) << e.reason;
  EXPECT_TRUE(matches(e.tau2, expected(c.name, "egger_tau2"), c.tolerance));
  EXPECT_TRUE(matches(e.statistic, expected(c.name, "egger_stat"), c.tolerance));
  EXPECT_TRUE(matches(e.pvalue, expected(c.name, "egger_p"), 10 * c.tolerance));
  EXPECT_TRUE(matches(e.limit, expected(c.name, "egger_limit"), c.tolerance));
  EXPECT_TRUE(matches(e.limit_ci_low, expected(c.name, "egger_limit_ci_low"), c.tolerance));
  EXPECT_TRUE(matches(e.limit_ci_high, expected(c.name, "egger_limit_ci_high"), c.tolerance));
  EXPECT_EQ(e.df.value_or(0), static_cast<long>(expected(c.name, "egger_df")));
}

INSTANTIATE_TEST_SUITE_P(Datasets, Metafor, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(MetaDiagnostics, RefusesWhatCannotBeComputed) {
  EXPECT_FALSE(tau2_q_profile({0.1}, {0.01}).estimable);
  MetaOptions fe;
  fe.tau2_method = Tau2Method::fe;
  EXPECT_FALSE(tau2_q_profile({0.1, 0.2, 0.3}, {0.01, 0.02, 0.03}, fe).estimable);
  EXPECT_FALSE(influence({0.1}, {0.01}).estimable);
  EXPECT_FALSE(egger_regression_test({0.1, 0.2, 0.3}, {0.01, 0.01, 0.01}).estimable);  // sei constant
  const Tau2Interval bad = tau2_q_profile({0.1, std::nan("")}, {0.01, 0.02});
  EXPECT_FALSE(bad.estimable);
  EXPECT_FALSE(bad.reason.empty());
}

}  // namespace
}  // namespace deepmr::stats
