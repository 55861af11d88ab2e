// The weak-instrument and outlier-robust MR methods (issue 18, item 4) on MendelianRandomization
// 0.10.0's example data (Waterworth et al. 2010 LDL-c and CHD, 28 variants), against two independent
// references, each named in its test:
//   (a) the numbers the package's vignette (Vignette_MR, inst/doc/Vignette_MR.pdf of the CRAN release
//       0.10.0) prints for this data, to the digits it prints: "dIVW 2.940 0.531 1.900,3.980 0.000
//       142.920", the mr_allmethods(method = "all") table ("Penalized IVW 2.561 0.413 1.752 3.370",
//       "Penalized MR-Egger 3.421 0.531 2.380 4.461", its intercept "-0.022 0.011 -0.043 0.000 0.051",
//       "Penalized weighted median 2.681 0.420 1.857 3.505") and "ConMix 2.73 2.00,3.43 4.79e-15" with
//       "Standard deviation of invalid estimands = 66.17905";
//   (b) tests/stats/fixtures/mr_robust_reference.txt, R 4.2.2 evaluating the package's own formulas
//       (from its source; stats, and robustbase::lmrob called as the package calls it; the package itself is not installed) at full precision
//       (tests/stats/fixtures/mr_robust_reference.R says how to regenerate it).
// Plus closed forms (exactly proportional data) and checks that the penalization and the mixture
// do move away from an outlier.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "deepmr/stats/mr.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

constexpr double kTight = 1e-9;  // the same formula evaluated in R and here

// key -> values of the R reference output.
const std::map<std::string, std::vector<double>>& reference() {
  static const auto values = deepmr::stats::test::read_keyed_values("mr_robust_reference.txt");
  return values;
}

double ref(const std::string& key, std::size_t i = 0) {
  const auto it = reference().find(key);
  if (it == reference().end() || it->second.size() <= i) throw std::runtime_error("no reference value " + key);
  return it->second[i];
}

// Agrees with a number printed to `decimals` places (half a unit of the last place).
::testing::AssertionResult prints_as(const std::optional<double>& actual, double printed, int decimals) {
  if (!actual) return ::testing::AssertionFailure() << "value is empty, printed " << printed;
  const double half = 0.5 * std::pow(10.0, -decimals);
  if (std::fabs(*actual - printed) <= half * (1 + 1e-9)) return ::testing::AssertionSuccess();
  std::ostringstream text;
  text.precision(17);
  text << "actual " << *actual << " does not print as " << printed << " at " << decimals << " decimals";
  return ::testing::AssertionFailure() << text.str();
}
#define EXPECT_PRINTS(actual, printed, decimals) EXPECT_TRUE(prints_as((actual), (printed), (decimals)))

MrResult fit(MrMethod method, Distribution distribution = Distribution::normal, std::size_t draws = 0) {
  MrOptions options;
  options.distribution = distribution;
  options.bootstrap_draws = draws;
  return fit_mr(method, test::lipid_instruments(), options);
}

// ---------------------------------------------------------------------------------------------
// divw

TEST(MrRobustValidation, DivwMatchesThePackagesFormulaInR) {  // (b)
  const MrResult r = fit(MrMethod::divw);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.n_used, 28u);
  EXPECT_REL(r.estimate, ref("divw.estimate"), kTight);
  EXPECT_REL(r.se, ref("divw.se"), kTight);
  EXPECT_REL(r.ci_low, ref("divw.ci_low"), kTight);
  EXPECT_REL(r.ci_high, ref("divw.ci_high"), kTight);
  EXPECT_REL(r.pvalue, ref("divw.pvalue"), 1e-7);
  EXPECT_REL(r.condition, ref("divw.condition"), kTight);
  EXPECT_REL(r.tau2, ref("divw.tau2"), 1e-7);
  // The condition is (f_mean - 1) sqrt(J): derivable from the stored columns.
  EXPECT_REL(r.condition, (*r.f_mean - 1) * std::sqrt(28.0), 1e-12);
  EXPECT_TRUE(r.reason.empty()) << r.reason;  // 142.9 > 20: no warning
}

TEST(MrRobustValidation, DivwAsTheVignettePrintsIt) {  // (a)
  const MrResult r = fit(MrMethod::divw);
  EXPECT_PRINTS(r.estimate, 2.940, 3);
  EXPECT_PRINTS(r.se, 0.531, 3);
  EXPECT_PRINTS(r.ci_low, 1.900, 3);
  EXPECT_PRINTS(r.ci_high, 3.980, 3);
  EXPECT_PRINTS(r.pvalue, 0.000, 3);
  EXPECT_PRINTS(r.condition, 142.920, 3);
}

TEST(MrRobustValidation, DivwRemovesTheMeasurementErrorBiasInClosedForm) {
  // by = 0.5 bx exactly: IVW gives 0.5, divw 0.5 sum(bx^2 w) / sum((bx^2 - bxse^2) w), larger.
  Instruments in;
  double sxx = 0, sd = 0;
  for (int i = 1; i <= 6; ++i) {
    const double bx = 0.05 * i, bxse = 0.01 * (1 + i % 3), byse = 0.02 * (1 + i % 2);
    in.push_back(bx, bxse, 0.5 * bx, byse);
    sxx += bx * bx / (byse * byse);
    sd += (bx * bx - bxse * bxse) / (byse * byse);
  }
  const MrResult r = fit_mr(MrMethod::divw, in);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, 0.5 * sxx / sd, 1e-13);
  EXPECT_GT(*r.estimate, 0.5);
  // With bxse -> 0 it is IVW.
  for (double& se : in.bxse) se *= 1e-6;
  EXPECT_REL(fit_mr(MrMethod::divw, in).estimate, 0.5, 1e-10);
}

TEST(MrRobustValidation, DivwWarnsOfWeakInstrumentsAndRefusesHopelessOnes) {
  Instruments weak;  // |bx / bxse| about 2: condition below 20, denominator still positive
  for (int i = 1; i <= 8; ++i) weak.push_back(0.02 + 0.001 * i, 0.01, 0.01 * (i % 3), 0.03);
  const MrResult r = fit_mr(MrMethod::divw, weak);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_LT(*r.condition, 20);
  EXPECT_NE(r.reason.find("below 20"), std::string::npos) << r.reason;
  Instruments hopeless = weak;  // bx^2 < bxse^2 everywhere: the denominator is negative
  for (double& se : hopeless.bxse) se = 0.1;
  const MrResult h = fit_mr(MrMethod::divw, hopeless);
  EXPECT_FALSE(h.estimable);
  EXPECT_NE(h.reason.find("too weak"), std::string::npos) << h.reason;
  Instruments exact = weak;
  exact.bxse[3] = 0;
  EXPECT_NE(fit_mr(MrMethod::divw, exact).reason.find("bxse = 0"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// penalized weights

TEST(MrRobustValidation, PenalizedIvwMatchesThePackagesFormulaInR) {  // (b)
  const MrResult r = fit(MrMethod::ivw_penalized);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.model, "random");
  EXPECT_REL(r.estimate, ref("ivw_penalized.estimate"), kTight);
  EXPECT_REL(r.se, ref("ivw_penalized.se"), kTight);
  EXPECT_REL(r.ci_low, ref("ivw_penalized.ci_low"), kTight);
  EXPECT_REL(r.ci_high, ref("ivw_penalized.ci_high"), kTight);
  EXPECT_REL(r.pvalue, ref("ivw_penalized.pvalue"), 1e-7);
  EXPECT_REL(r.residual_se, ref("ivw_penalized.residual_se"), kTight);
  EXPECT_FALSE(r.q.has_value());  // the package reports no heterogeneity for penalized fits
}

TEST(MrRobustValidation, PenalizedIvwAsTheVignettePrintsIt) {  // (a)
  const MrResult r = fit(MrMethod::ivw_penalized);
  EXPECT_PRINTS(r.estimate, 2.561, 3);
  EXPECT_PRINTS(r.se, 0.413, 3);
  EXPECT_PRINTS(r.ci_low, 1.752, 3);
  EXPECT_PRINTS(r.ci_high, 3.370, 3);
}

TEST(MrRobustValidation, PenalizedEggerMatchesThePackagesFormulaInR) {  // (b)
  const MrResult r = fit(MrMethod::egger_penalized);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, ref("egger_penalized.estimate"), kTight);
  EXPECT_REL(r.se, ref("egger_penalized.se"), kTight);
  EXPECT_REL(r.ci_low, ref("egger_penalized.ci_low"), kTight);
  EXPECT_REL(r.ci_high, ref("egger_penalized.ci_high"), kTight);
  EXPECT_REL(r.pvalue, ref("egger_penalized.pvalue"), 1e-6);
  EXPECT_REL(r.intercept, ref("egger_penalized.intercept"), kTight);
  EXPECT_REL(r.intercept_se, ref("egger_penalized.intercept_se"), kTight);
  EXPECT_REL(r.intercept_ci_low, ref("egger_penalized.intercept_ci_low"), kTight);
  EXPECT_REL(r.intercept_ci_high, ref("egger_penalized.intercept_ci_high"), 1e-6);  // near 0
  EXPECT_REL(r.intercept_pvalue, ref("egger_penalized.intercept_pvalue"), kTight);
  EXPECT_REL(r.residual_se, ref("egger_penalized.residual_se"), kTight);
  const MrResult t = fit(MrMethod::egger_penalized, Distribution::t);
  EXPECT_REL(t.ci_low, ref("egger_penalized_t.ci_low"), kTight);
  EXPECT_REL(t.ci_high, ref("egger_penalized_t.ci_high"), kTight);
  EXPECT_REL(t.pvalue, ref("egger_penalized_t.pvalue"), 1e-7);
  EXPECT_EQ(t.df, 26);
}

TEST(MrRobustValidation, PenalizedEggerAsTheVignettePrintsIt) {  // (a)
  const MrResult r = fit(MrMethod::egger_penalized);
  EXPECT_PRINTS(r.estimate, 3.421, 3);
  EXPECT_PRINTS(r.se, 0.531, 3);
  EXPECT_PRINTS(r.ci_low, 2.380, 3);
  EXPECT_PRINTS(r.ci_high, 4.461, 3);
  EXPECT_PRINTS(r.intercept, -0.022, 3);
  EXPECT_PRINTS(r.intercept_se, 0.011, 3);
  EXPECT_PRINTS(r.intercept_ci_low, -0.043, 3);
  EXPECT_PRINTS(r.intercept_ci_high, 0.000, 3);
  EXPECT_PRINTS(r.intercept_pvalue, 0.051, 3);
}

TEST(MrRobustValidation, PenalizedWeightedMedian) {
  const MrResult r = fit(MrMethod::median_penalized, Distribution::normal, 10000);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, ref("median_penalized.estimate"), kTight);  // (b)
  EXPECT_PRINTS(r.estimate, 2.681, 3);                               // (a)
  // (a) the bootstrap SE: R's draws are not ours; any seed gives it to a few percent.
  EXPECT_REL(r.se, 0.420, 0.05);
  EXPECT_EQ(r.bootstrap_draws, 10000u);
  // Not the weighted median's 2.68288346489811: the penalization changed the weights.
  EXPECT_GT(std::fabs(*r.estimate - 2.68288346489811), 1e-4);
}

TEST(MrRobustValidation, PenalizationDownweightsAnOutlierThatMovesTheUnpenalizedFits) {
  Instruments in = test::lipid_instruments();
  in.push_back(0.04, 0.004, 0.8, 0.03);  // a typical |bx|, ratio 20 (the others are about 3)
  MrOptions options;
  options.bootstrap_draws = 0;
  const auto shift = [&](MrMethod method) {
    return std::fabs(*fit_mr(method, in, options).estimate - *fit_mr(method, test::lipid_instruments(), options).estimate);
  };
  // IVW and the weighted median move; their penalized forms hardly do.
  EXPECT_GT(shift(MrMethod::ivw), 0.5);
  EXPECT_LT(shift(MrMethod::ivw_penalized), 0.05);
  EXPECT_LT(shift(MrMethod::median_penalized), shift(MrMethod::median_weighted));
  // (b) both regressions on these 29 instruments. Egger's penalty comes from the residuals of the
  // ordinary Egger fit, which the outlier pulls: it moves by 1.17 (R agrees), less than Egger's own
  // shift.
  const MrResult ivw = fit_mr(MrMethod::ivw_penalized, in, options);
  EXPECT_REL(ivw.estimate, ref("outlier.ivw_penalized.estimate"), kTight);
  EXPECT_REL(ivw.se, ref("outlier.ivw_penalized.se"), kTight);
  const MrResult egger = fit_mr(MrMethod::egger_penalized, in, options);
  EXPECT_REL(egger.estimate, ref("outlier.egger_penalized.estimate"), kTight);
  EXPECT_REL(egger.se, ref("outlier.egger_penalized.se"), kTight);
  EXPECT_LT(shift(MrMethod::egger_penalized), shift(MrMethod::egger));
}

// ---------------------------------------------------------------------------------------------
// conmix

TEST(MrRobustValidation, ConmixMatchesThePackagesFormulaInR) {  // (b), the manual's grid ends
  const MrResult r = fit(MrMethod::conmix);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.n_used, 28u);
  EXPECT_REL(r.psi, ref("conmix.psi"), kTight);
  EXPECT_REL(r.estimate, ref("conmix_manual_grid.estimate"), 1e-12);
  ASSERT_EQ(r.intervals.size(), 1u);
  EXPECT_REL(r.ci_low, ref("conmix_manual_grid.ci_lower"), 1e-12);
  EXPECT_REL(r.ci_high, ref("conmix_manual_grid.ci_upper"), 1e-12);
  EXPECT_REL(r.pvalue, ref("conmix_manual_grid.pvalue"), 1e-7);
  EXPECT_REL(r.phi, ref("conmix_manual_grid.phi"), kTight);
  EXPECT_EQ(r.n_valid, static_cast<long>(ref("conmix_manual_grid.valid")));
  EXPECT_FALSE(r.se.has_value());
  EXPECT_TRUE(r.reason.empty()) << r.reason;
  // The package's own grid (from -27.4, not -53.6) gives the same numbers here.
  EXPECT_REL(r.estimate, ref("conmix.estimate"), 1e-12);
  EXPECT_REL(r.pvalue, ref("conmix.pvalue"), 1e-7);
}

TEST(MrRobustValidation, ConmixAsTheVignettePrintsIt) {  // (a)
  const MrResult r = fit(MrMethod::conmix);
  EXPECT_PRINTS(r.psi, 66.17905, 5);
  EXPECT_PRINTS(r.estimate, 2.73, 2);
  EXPECT_PRINTS(r.ci_low, 2.00, 2);
  EXPECT_PRINTS(r.ci_high, 3.43, 2);
  EXPECT_REL(r.pvalue, 4.79e-15, 0.005 / 4.79);
}

TEST(MrRobustValidation, ConmixWithAGivenPsi) {  // (b)
  MrOptions options;
  options.conmix_psi = 3;
  const MrResult r = fit_mr(MrMethod::conmix, test::lipid_instruments(), options);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(*r.psi, 3.0);
  EXPECT_REL(r.estimate, ref("conmix_psi3.estimate"), 1e-12);
  EXPECT_REL(r.ci_low, ref("conmix_psi3.ci_lower"), 1e-12);
  EXPECT_REL(r.ci_high, ref("conmix_psi3.ci_upper"), 1e-12);
  EXPECT_REL(r.pvalue, ref("conmix_psi3.pvalue"), 1e-7);
  EXPECT_EQ(r.n_valid, static_cast<long>(ref("conmix_psi3.valid")));
}

TEST(MrRobustValidation, ConmixIntervalCanBeAUnionOfRanges) {  // (b): the vignette's CRP data
  Instruments crp;
  const double bx[] = {0.160, 0.236, 0.149, 0.09, 0.079, 0.072, 0.047, 0.069};
  const double bxse[] = {0.006, 0.009, 0.006, 0.005, 0.005, 0.005, 0.006, 0.011};
  const double by[] = {0.0237903, -0.1121942, -0.0711906, -0.030848, 0.0479207, 0.0238895, 0.005528, 0.0214852};
  const double byse[] = {0.0149064, 0.0303084, 0.0150552, 0.0148339, 0.0143077, 0.0145478, 0.0160765, 0.0255237};
  for (int i = 0; i < 8; ++i) crp.push_back(bx[i], bxse[i], by[i], byse[i]);
  const MrResult r = fit_mr(MrMethod::conmix, crp);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.psi, ref("conmix_crp.psi"), kTight);
  EXPECT_REL(r.estimate, ref("conmix_crp.estimate"), 1e-12);
  ASSERT_EQ(r.intervals.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(r.intervals[i].low, ref("conmix_crp.ci_lower", i), 1e-12);
    EXPECT_NEAR(r.intervals[i].high, ref("conmix_crp.ci_upper", i), 1e-12);
  }
  EXPECT_EQ(*r.ci_low, r.intervals.front().low);
  EXPECT_EQ(*r.ci_high, r.intervals.back().high);
  EXPECT_REL(r.pvalue, ref("conmix_crp.pvalue"), 1e-7);
  EXPECT_EQ(r.n_valid, static_cast<long>(ref("conmix_crp.valid")));
  EXPECT_NE(r.reason.find("union of 3 ranges"), std::string::npos) << r.reason;
}

TEST(MrRobustValidation, ConmixIgnoresAMinorityOfInvalidInstruments) {
  Instruments in;
  for (int i = 1; i <= 9; ++i) in.push_back(0.02 * i, 0.002, 0.8 * 0.02 * i, 0.01);  // ratio 0.8 exactly
  for (int i = 1; i <= 3; ++i) in.push_back(0.03 * i, 0.002, 3.0 * 0.03 * i, 0.01);  // ratio 3
  const MrResult r = fit_mr(MrMethod::conmix, in);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_NEAR(*r.estimate, 0.8, 0.005 + 1e-12);  // the nearest grid point
  EXPECT_EQ(r.n_valid, 9);
  MrOptions options;
  const MrResult ivw = fit_mr(MrMethod::ivw, in, options);
  EXPECT_GT(*ivw.estimate, 1.0);  // IVW is pulled off (1.02)
}

TEST(MrRobustValidation, ConmixRefusesAGridItCannotAfford) {
  Instruments in;
  for (int i = 1; i <= 5; ++i) in.push_back(1e-4 * i, 1e-5, 0.5 * i, 0.5);  // ratios ~5000, SEs ~1000s
  MrOptions options;
  options.conmix_max_grid = 10000;
  const MrResult r = fit_mr(MrMethod::conmix, in, options);
  EXPECT_FALSE(r.estimable);
  EXPECT_NE(r.reason.find("grid"), std::string::npos) << r.reason;
}

// ---------------------------------------------------------------------------------------------
// robust regression (MM-estimation as robustbase::lmrob)

// lmrob stops at 1e-7 relative change (its fast-S start is random: R's own answers vary by about
// 1e-6); we iterate to 1e-13. Against lmrob at refine.tol = rel.tol = 1e-12 (keys "_tight"): 1e-8;
// against lmrob as the package calls it: 1e-5.
constexpr double kLmrob = 1e-8, kLmrobDefault = 1e-5;

TEST(MrRobustValidation, RobustIvwMatchesLmrobInR) {  // (b): lmrob itself
  const MrResult r = fit(MrMethod::ivw_robust);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.model, "random");
  EXPECT_REL(r.estimate, ref("ivw_robust_tight.estimate"), kLmrob);
  EXPECT_REL(r.se, ref("ivw_robust_tight.se"), kLmrob);
  EXPECT_REL(r.ci_low, ref("ivw_robust_tight.ci_low"), kLmrob);
  EXPECT_REL(r.ci_high, ref("ivw_robust_tight.ci_high"), kLmrob);
  EXPECT_REL(r.pvalue, ref("ivw_robust_tight.pvalue"), 1e-7);
  EXPECT_REL(r.residual_se, ref("ivw_robust_tight.residual_se"), kLmrob);
  EXPECT_REL(r.q, ref("ivw_robust_tight.q"), kLmrob);
  EXPECT_EQ(r.q_df, 27);
  EXPECT_REL(r.estimate, ref("ivw_robust.estimate"), kLmrobDefault);
  EXPECT_REL(r.se, ref("ivw_robust.se"), kLmrobDefault);
  // (a) the vignette's mr_allmethods table: "Robust IVW 2.797 0.307 2.195 3.399".
  EXPECT_PRINTS(r.estimate, 2.797, 3);
  EXPECT_PRINTS(r.se, 0.307, 3);
  EXPECT_PRINTS(r.ci_low, 2.195, 3);
  EXPECT_PRINTS(r.ci_high, 3.399, 3);
}

TEST(MrRobustValidation, RobustEggerMatchesLmrobInR) {  // (b)
  const MrResult r = fit(MrMethod::egger_robust);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, ref("egger_robust_tight.estimate"), kLmrob);
  EXPECT_REL(r.se, ref("egger_robust_tight.se"), kLmrob);
  EXPECT_REL(r.ci_low, ref("egger_robust_tight.ci_low"), kLmrob);
  EXPECT_REL(r.ci_high, ref("egger_robust_tight.ci_high"), kLmrob);
  EXPECT_REL(r.pvalue, ref("egger_robust_tight.pvalue"), 1e-7);
  EXPECT_REL(r.intercept, ref("egger_robust_tight.intercept"), kLmrob);
  EXPECT_REL(r.intercept_se, ref("egger_robust_tight.intercept_se"), kLmrob);
  EXPECT_REL(r.intercept_pvalue, ref("egger_robust_tight.intercept_pvalue"), kLmrob);
  EXPECT_REL(r.residual_se, ref("egger_robust_tight.residual_se"), kLmrob);
  EXPECT_REL(r.q, ref("egger_robust_tight.q"), kLmrob);
  EXPECT_REL(r.estimate, ref("egger_robust.estimate"), kLmrobDefault);
  EXPECT_REL(r.se, ref("egger_robust.se"), kLmrobDefault);
  // (a) "Robust MR-Egger 3.256 0.624 2.033 4.479", "(intercept) -0.015 0.021 -0.055 0.026 0.474".
  EXPECT_PRINTS(r.estimate, 3.256, 3);
  EXPECT_PRINTS(r.se, 0.624, 3);
  EXPECT_PRINTS(r.ci_low, 2.033, 3);
  EXPECT_PRINTS(r.ci_high, 4.479, 3);
  EXPECT_PRINTS(r.intercept, -0.015, 3);
  EXPECT_PRINTS(r.intercept_se, 0.021, 3);
  EXPECT_PRINTS(r.intercept_ci_low, -0.055, 3);
  EXPECT_PRINTS(r.intercept_ci_high, 0.026, 3);
  EXPECT_PRINTS(r.intercept_pvalue, 0.474, 3);
}

TEST(MrRobustValidation, PenalizedRobustIvwAndEggerMatchLmrobInR) {  // (b) and (a)
  const MrResult r = fit(MrMethod::ivw_penalized_robust);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, ref("ivw_robust_penalized_tight.estimate"), kLmrob);
  EXPECT_REL(r.se, ref("ivw_robust_penalized_tight.se"), kLmrob);
  EXPECT_REL(r.residual_se, ref("ivw_robust_penalized_tight.residual_se"), kLmrob);
  EXPECT_FALSE(r.q.has_value());
  EXPECT_REL(r.se, ref("ivw_robust_penalized.se"), kLmrobDefault);
  // "Penalized robust IVW 2.576 0.251 2.083 3.069"
  EXPECT_PRINTS(r.estimate, 2.576, 3);
  EXPECT_PRINTS(r.se, 0.251, 3);
  EXPECT_PRINTS(r.ci_low, 2.083, 3);
  EXPECT_PRINTS(r.ci_high, 3.069, 3);
  const MrResult e = fit(MrMethod::egger_penalized_robust);
  ASSERT_TRUE(e.estimable) << e.reason;
  EXPECT_REL(e.estimate, ref("egger_robust_penalized_tight.estimate"), kLmrob);
  EXPECT_REL(e.se, ref("egger_robust_penalized_tight.se"), kLmrob);
  EXPECT_REL(e.intercept, ref("egger_robust_penalized_tight.intercept"), kLmrob);
  EXPECT_REL(e.intercept_se, ref("egger_robust_penalized_tight.intercept_se"), kLmrob);
  EXPECT_REL(e.intercept_pvalue, ref("egger_robust_penalized_tight.intercept_pvalue"), kLmrob);
  EXPECT_REL(e.residual_se, ref("egger_robust_penalized_tight.residual_se"), kLmrob);
  EXPECT_REL(e.se, ref("egger_robust_penalized.se"), kLmrobDefault);
  EXPECT_REL(e.residual_se, ref("egger_robust_penalized.residual_se"), kLmrobDefault);
  // "Penalized robust MR-Egger 3.502 0.478 2.566 4.438", "(intercept) -0.026 0.014 -0.054 0.003 0.075"
  EXPECT_PRINTS(e.estimate, 3.502, 3);
  EXPECT_PRINTS(e.se, 0.478, 3);
  EXPECT_PRINTS(e.ci_low, 2.566, 3);
  EXPECT_PRINTS(e.ci_high, 4.438, 3);
  EXPECT_PRINTS(e.intercept, -0.026, 3);
  EXPECT_PRINTS(e.intercept_se, 0.014, 3);
  EXPECT_PRINTS(e.intercept_ci_low, -0.054, 3);
  EXPECT_PRINTS(e.intercept_ci_high, 0.003, 3);
  EXPECT_PRINTS(e.intercept_pvalue, 0.075, 3);
}

TEST(MrRobustValidation, RobustFitsAreRegressionEquivariant) {
  // by -> by + 0.5 bx shifts every slope by exactly 0.5 and leaves Egger's intercept: an exact
  // property of the S and MM estimates (not of a start that depends on the data's scale).
  Instruments shifted = test::lipid_instruments();
  for (std::size_t i = 0; i < shifted.size(); ++i) shifted.by[i] += 0.5 * shifted.bx[i];
  for (MrMethod method : {MrMethod::ivw_robust, MrMethod::egger_robust}) {
    const MrResult a = fit(method), b = fit_mr(method, shifted, MrOptions{});
    ASSERT_TRUE(a.estimable && b.estimable) << a.reason << b.reason;
    EXPECT_NEAR(*b.estimate, *a.estimate + 0.5, 1e-9) << mr_method_name(method);
    EXPECT_REL(b.se, *a.se, 1e-8);
    if (a.intercept) {
      EXPECT_NEAR(*b.intercept, *a.intercept, 1e-10);
    }
  }
}

TEST(MrRobustValidation, RobustIvwShrugsOffAGrossOutlier) {
  Instruments in = test::lipid_instruments();
  in.push_back(0.04, 0.004, 0.8, 0.03);  // ratio 20
  MrOptions options;
  const double robust0 = *fit_mr(MrMethod::ivw_robust, test::lipid_instruments(), options).estimate;
  const double robust1 = *fit_mr(MrMethod::ivw_robust, in, options).estimate;
  const double plain0 = *fit_mr(MrMethod::ivw, test::lipid_instruments(), options).estimate;
  const double plain1 = *fit_mr(MrMethod::ivw, in, options).estimate;
  EXPECT_GT(plain1 - plain0, 0.5);
  EXPECT_LT(std::fabs(robust1 - robust0), 0.1);  // its residual of 22 scale units gets weight 0
}

// ---------------------------------------------------------------------------------------------
// every new method

TEST(MrRobustValidation, ExactlyProportionalDataGiveTheTrueRatio) {
  Instruments in;
  for (int i = 1; i <= 10; ++i) in.push_back((i % 2 ? 1 : -1) * 0.01 * i, 1e-9, (i % 2 ? 1 : -1) * 0.75 * 0.01 * i,
                                             0.01 * (1 + i % 3));
  MrOptions options;
  options.bootstrap_draws = 0;
  for (MrMethod method : {MrMethod::divw, MrMethod::ivw_penalized, MrMethod::egger_penalized,
                          MrMethod::median_penalized}) {
    const MrResult r = fit_mr(method, in, options);
    ASSERT_TRUE(r.estimable) << mr_method_name(method) << ": " << r.reason;
    EXPECT_NEAR(*r.estimate, 0.75, 1e-10) << mr_method_name(method);
  }
  // An exact fit has robust scale 0 (lmrob warns and the package divides by it): not estimable.
  for (MrMethod method : {MrMethod::ivw_robust, MrMethod::egger_robust}) {
    const MrResult r = fit_mr(method, in, options);
    EXPECT_FALSE(r.estimable) << mr_method_name(method);
    EXPECT_NE(r.reason.find("fit exactly"), std::string::npos) << r.reason;
  }
  const MrResult c = fit_mr(MrMethod::conmix, in, options);
  ASSERT_TRUE(c.estimable) << c.reason;
  EXPECT_NEAR(*c.estimate, 0.75, 0.005 + 1e-12);
  EXPECT_EQ(c.n_valid, 10);
}

TEST(MrRobustValidation, TheDefaultsAreUnchanged) {
  EXPECT_EQ(default_mr_methods(), (std::vector<MrMethod>{MrMethod::ivw, MrMethod::egger, MrMethod::median_weighted,
                                                         MrMethod::mode_weighted}));
  EXPECT_EQ(parse_mr_methods("divw,ivw-penalized,egger-penalized,median-penalized,conmix"),
            (std::vector<MrMethod>{MrMethod::divw, MrMethod::ivw_penalized, MrMethod::egger_penalized,
                                   MrMethod::median_penalized, MrMethod::conmix}));
  // The bootstrap streams of the existing methods keep their ids.
  EXPECT_EQ(bootstrap_stream(MrMethod::median_weighted), 0x6d72000000000004ull);
  EXPECT_EQ(bootstrap_stream(MrMethod::mode_weighted), 0x6d72000000000006ull);
}

}  // namespace
}  // namespace deepmr::stats
