// MR estimators against MendelianRandomization 0.10.0 on its own example data (Waterworth et al.
// 2010 LDL-c and CHD, 28 variants): every number of tests/data/validation/README.md's MR table.
#include <gtest/gtest.h>

#include "deepmr/stats/mr.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

constexpr double kTight = 1e-8;      // closed-form numbers
constexpr double kBootstrap = 0.05;  // bootstrap SEs: any seed gives them to a few percent

MrResult fit(MrMethod method, Distribution distribution = Distribution::normal) {
  MrOptions options;
  options.distribution = distribution;
  options.bootstrap_draws = 10000;
  return fit_mr(method, test::lipid_instruments(), options);
}

TEST(MrValidation, IvwDefaultIsRandomEffectsFromFourVariants) {
  const MrResult r = fit(MrMethod::ivw);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.model, "random");
  EXPECT_EQ(r.n_used, 28u);
  EXPECT_REL(r.estimate, 2.83421393887889, kTight);
  EXPECT_REL(r.se, 0.52979948855643, kTight);
  EXPECT_REL(r.ci_low, 1.79582602228055, kTight);
  EXPECT_REL(r.ci_high, 3.87260185547723, kTight);
  EXPECT_REL(r.pvalue, 8.81501348490048e-08, kTight);
  EXPECT_REL(r.residual_se, 1.91997709813211, kTight);
  EXPECT_REL(r.q, 99.5304255484988, kTight);
  EXPECT_EQ(r.q_df, 27);
  EXPECT_REL(r.q_pvalue, 3.07369539058613e-10, kTight);
  EXPECT_REL(r.i2, (99.5304255484988 - 27) / 99.5304255484988, kTight);
  EXPECT_REL(r.f_mean, 28.0093110220279, kTight);
  EXPECT_FALSE(r.intercept.has_value());
  EXPECT_FALSE(r.df.has_value());
}

TEST(MrValidation, IvwRandomMatchesTheDefault) {
  const MrResult a = fit(MrMethod::ivw), b = fit(MrMethod::ivw_random);
  EXPECT_EQ(*a.estimate, *b.estimate);
  EXPECT_EQ(*a.se, *b.se);
  EXPECT_EQ(b.model, "random");
}

TEST(MrValidation, IvwFixedEffect) {
  const MrResult r = fit(MrMethod::ivw_fixed);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.model, "fixed");
  EXPECT_REL(r.estimate, 2.83421393887889, kTight);
  EXPECT_REL(r.se, 0.275940525057229, kTight);
  EXPECT_REL(r.ci_low, 2.29338044789165, kTight);
  EXPECT_REL(r.ci_high, 3.37504742986613, kTight);
  EXPECT_REL(r.q, 99.5304255484988, kTight);  // heterogeneity does not depend on the model
}

TEST(MrValidation, IvwRandomWithTDistribution) {
  const MrResult r = fit(MrMethod::ivw, Distribution::t);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, 2.83421393887889, kTight);
  EXPECT_REL(r.se, 0.52979948855643, kTight);
  EXPECT_REL(r.ci_low, 1.74715518064316, kTight);
  EXPECT_REL(r.ci_high, 3.92127269711462, kTight);
  EXPECT_REL(r.pvalue, 1.19210664251747e-05, kTight);
  EXPECT_EQ(r.df, 27);
}

TEST(MrValidation, EggerSlopeInterceptAndHeterogeneity) {
  const MrResult r = fit(MrMethod::egger);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.n_used, 28u);
  EXPECT_REL(r.estimate, 3.25289013194081, kTight);
  EXPECT_REL(r.se, 0.770129161393982, kTight);
  EXPECT_REL(r.ci_low, 1.74346471216457, kTight);
  EXPECT_REL(r.ci_high, 4.76231555171705, kTight);
  EXPECT_REL(r.pvalue, 2.40191515241683e-05, kTight);
  EXPECT_REL(r.intercept, -0.0114606656512896, kTight);
  EXPECT_REL(r.intercept_se, 0.0151883205190355, kTight);
  EXPECT_REL(r.intercept_ci_low, -0.0412292268542498, kTight);
  EXPECT_REL(r.intercept_ci_high, 0.0183078955516707, kTight);
  EXPECT_REL(r.intercept_pvalue, 0.450506451283992, kTight);
  EXPECT_REL(r.residual_se, 1.93547355640077, kTight);
  EXPECT_REL(r.q, 97.3975050756926, kTight);
  EXPECT_EQ(r.q_df, 26);
  EXPECT_REL(r.q_pvalue, 3.46369179929877e-10, kTight);
  EXPECT_REL(r.i2_gx, 0.91936538831957, kTight);
  EXPECT_REL(r.f_mean, 28.0093110220279, kTight);
}

TEST(MrValidation, EggerWithTDistribution) {
  const MrResult r = fit(MrMethod::egger, Distribution::t);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, 3.25289013194081, kTight);
  EXPECT_REL(r.se, 0.770129161393982, kTight);
  EXPECT_REL(r.ci_low, 1.66986696913813, kTight);
  EXPECT_REL(r.ci_high, 4.83591329474349, kTight);
  EXPECT_REL(r.pvalue, 0.000260252917148041, kTight);
  EXPECT_REL(r.intercept_pvalue, 0.457287120009874, kTight);
  EXPECT_EQ(r.df, 26);
}

TEST(MrValidation, WeightedMedian) {
  const MrResult r = fit(MrMethod::median_weighted);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, 2.68288346489811, kTight);
  EXPECT_REL(r.se, 0.4189, kBootstrap);
  EXPECT_EQ(r.bootstrap_draws, 10000u);
}

TEST(MrValidation, SimpleMedian) {
  const MrResult r = fit(MrMethod::median_simple);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, 1.75513833992095, kTight);
  EXPECT_REL(r.se, 0.740, kBootstrap);
}

TEST(MrValidation, ModeBasedEstimate) {
  const MrResult r = fit(MrMethod::mode_weighted);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, 2.94630057209513, kTight);
  EXPECT_REL(r.se, 1.005, kBootstrap);
}

TEST(MrValidation, BootstrapSesDoNotDependOnTheSeedBeyondMonteCarloError) {
  MrOptions options;
  options.bootstrap_draws = 10000;
  options.seed = 20240601;
  const MrResult r = fit_mr(MrMethod::median_weighted, test::lipid_instruments(), options);
  EXPECT_REL(r.se, 0.4189, kBootstrap);
  EXPECT_NE(*r.se, *fit(MrMethod::median_weighted).se);  // but the draws are different
}

}  // namespace
}  // namespace deepmr::stats
