// IVW with second-order ("delta") weights (issue 18, item 2) on MendelianRandomization 0.10.0's
// lipids example data (Waterworth et al. 2010 LDL-c and CHD, 28 variants), against
// tests/stats/fixtures/mr_ivw_delta_reference.txt: R 4.2.2 evaluating the package's mr_ivw(weights =
// "delta", psi) formula with stats::lm (mr_ivw_delta_reference.R says how to regenerate it; the
// package itself is not installed), for psi 0, 0.5, -0.3 and a different psi per instrument. Plus
// closed forms: psi and bxse 0 give the simple weights bitwise; one instrument gives the delta-method
// SE of its ratio; bx = 0 is left out; a degenerate weight refuses the fit with its reason.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/mr.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

constexpr double kTight = 1e-10;  // the same closed form evaluated in R and here

const std::map<std::string, std::vector<double>>& reference() {
  static const auto values = deepmr::stats::test::read_keyed_values("mr_ivw_delta_reference.txt");
  return values;
}

const std::vector<double>& ref_values(const std::string& key) {
  const auto it = reference().find(key);
  if (it == reference().end()) throw std::runtime_error("no reference value " + key);
  return it->second;
}
double expected(const std::string& key) { return ref_values(key).at(0); }

MrOptions delta_options(double psi, Distribution distribution = Distribution::normal) {
  MrOptions options;
  options.ivw_weights = IvwWeights::delta;
  options.psi = psi;
  options.distribution = distribution;
  return options;
}

void expect_matches(const std::string& key, const Instruments& in, const MrOptions& options) {
  SCOPED_TRACE(key);
  const MrResult random = fit_mr(MrMethod::ivw, in, options);
  ASSERT_TRUE(random.estimable) << random.reason;
  EXPECT_EQ(random.model, "random");
  EXPECT_EQ(random.n_used, 28u);
  EXPECT_TRUE(test::near_relative(random.estimate, expected(key + ".estimate"), kTight));
  EXPECT_TRUE(test::near_relative(random.se, expected(key + ".se"), kTight));
  EXPECT_TRUE(test::near_relative(random.ci_low, expected(key + ".ci_low"), kTight));
  EXPECT_TRUE(test::near_relative(random.ci_high, expected(key + ".ci_high"), kTight));
  EXPECT_TRUE(test::near_relative(random.pvalue, expected(key + ".pvalue"), 1e-8));
  EXPECT_TRUE(test::near_relative(random.residual_se, expected(key + ".residual_se"), kTight));
  EXPECT_TRUE(test::near_relative(random.q, expected(key + ".q"), kTight));
  EXPECT_TRUE(test::near_relative(random.q_pvalue, expected(key + ".q_pvalue"), 1e-8));
  EXPECT_EQ(random.q_df, 27);

  const MrResult fixed = fit_mr(MrMethod::ivw_fixed, in, options);
  ASSERT_TRUE(fixed.estimable) << fixed.reason;
  EXPECT_TRUE(test::near_relative(fixed.estimate, expected(key + ".estimate"), kTight));
  EXPECT_TRUE(test::near_relative(fixed.se, expected(key + ".fixed_se"), kTight));

  MrOptions t = options;
  t.distribution = Distribution::t;
  const MrResult with_t = fit_mr(MrMethod::ivw_random, in, t);
  ASSERT_TRUE(with_t.estimable) << with_t.reason;
  EXPECT_TRUE(test::near_relative(with_t.ci_low, expected(key + ".t_ci_low"), kTight));
  EXPECT_TRUE(test::near_relative(with_t.pvalue, expected(key + ".t_pvalue"), 1e-8));
}

TEST(IvwDeltaWeights, MatchTheirFormulaInRWithOnePsi) {
  expect_matches("delta_psi0", test::lipid_instruments(), delta_options(0));
  expect_matches("delta_psi05", test::lipid_instruments(), delta_options(0.5));
  expect_matches("delta_psi_neg03", test::lipid_instruments(), delta_options(-0.3));
}

// Deep MR's case: each instrument its own psi (Instruments::psi, from the Monte Carlo samples),
// which takes precedence over MrOptions::psi.
TEST(IvwDeltaWeights, MatchTheirFormulaInRWithAPsiPerInstrument) {
  Instruments in = test::lipid_instruments();
  in.psi = ref_values("psi_vector");
  ASSERT_EQ(in.psi.size(), in.size());
  expect_matches("delta_psi_vector", in, delta_options(0.9));
}

// The delta weights differ from the simple ones on these data: the references above are not the
// simple fit under another name.
TEST(IvwDeltaWeights, DifferFromTheSimpleWeights) {
  const MrResult simple = fit_mr(MrMethod::ivw, test::lipid_instruments(), MrOptions{});
  ASSERT_TRUE(simple.estimable);
  EXPECT_GT(std::fabs(*simple.estimate - expected("delta_psi0.estimate")), 0.1);
}

// bxse = 0 makes the second-order weight 1 / byse^2 whatever psi is: the simple fit, bit for bit.
TEST(IvwDeltaWeights, ExactExposureEffectsGiveTheSimpleFitBitwise) {
  Instruments in = test::lipid_instruments();
  for (double& se : in.bxse) se = 0;
  for (const MrMethod method : {MrMethod::ivw, MrMethod::ivw_fixed, MrMethod::ivw_random}) {
    const MrResult simple = fit_mr(method, in, MrOptions{});
    const MrResult delta = fit_mr(method, in, delta_options(0.7));
    ASSERT_TRUE(simple.estimable && delta.estimable);
    EXPECT_EQ(*delta.estimate, *simple.estimate);
    EXPECT_EQ(*delta.se, *simple.se);
    EXPECT_EQ(*delta.q, *simple.q);
  }
}

// One instrument: the estimate is its ratio and the SE the delta-method SE of by / bx, as mr_ivw's
// one-variant branch writes it: sqrt(byse^2/bx^2 + by^2 bxse^2/bx^4 - 2 psi by bxse byse / bx^3).
TEST(IvwDeltaWeights, OneInstrumentGivesTheDeltaMethodSeOfItsRatio) {
  Instruments in;
  in.push_back(0.5, 0.1, 0.3, 0.2);
  const double psi = 0.4, bx = 0.5, bxse = 0.1, by = 0.3, byse = 0.2;
  const double expected = std::sqrt(byse * byse / (bx * bx) + by * by * bxse * bxse / std::pow(bx, 4) -
                                    2 * psi * by * bxse * byse / std::pow(bx, 3));
  const MrResult r = fit_mr(MrMethod::ivw, in, delta_options(psi));
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_NEAR(*r.estimate, by / bx, 1e-15);
  EXPECT_NEAR(*r.se, expected, 1e-15);
}

// An instrument with bx = 0 has weight 0 in the limit: it is left out (n_used), and the fit equals
// the fit of the rest.
TEST(IvwDeltaWeights, InstrumentsWithoutAnExposureEffectAreLeftOut) {
  Instruments rest = test::lipid_instruments();
  rest.psi.assign(rest.size(), 0.1);
  Instruments with_zero = rest;
  with_zero.push_back(0.0, 0.01, 0.05, 0.02, 0.3);
  const MrResult a = fit_mr(MrMethod::ivw, with_zero, delta_options(0));
  const MrResult b = fit_mr(MrMethod::ivw, rest, delta_options(0));
  ASSERT_TRUE(a.estimable && b.estimable);
  EXPECT_EQ(a.n_used, 28u);
  EXPECT_EQ(*a.estimate, *b.estimate);
  EXPECT_EQ(*a.se, *b.se);
}

// psi = 1 with byse = |by / bx| bxse: the ratio has no uncertainty and its weight would be
// infinite; the fit says so rather than returning a number.
TEST(IvwDeltaWeights, ADegenerateWeightIsNotEstimableWithItsReason) {
  Instruments in;
  in.push_back(0.5, 0.1, 1.0, 0.2, 1.0);  // ratio 2, byse = 2 bxse
  in.push_back(0.4, 0.1, 0.5, 0.3, 0.2);
  const MrResult r = fit_mr(MrMethod::ivw, in, delta_options(0));
  EXPECT_FALSE(r.estimable);
  EXPECT_NE(r.reason.find("not positive"), std::string::npos) << r.reason;

  Instruments zeros;
  zeros.push_back(0.0, 0.1, 1.0, 0.2);
  const MrResult none = fit_mr(MrMethod::ivw, zeros, delta_options(0));
  EXPECT_FALSE(none.estimable);
  EXPECT_NE(none.reason.find("all bx are zero"), std::string::npos) << none.reason;
}

// A psi outside [-1, 1] is bad input, named with its instrument; methods other than IVW ignore the
// weights option.
TEST(IvwDeltaWeights, PsiOutsideACorrelationIsRefusedAndOtherMethodsIgnoreTheOption) {
  Instruments in = test::lipid_instruments();
  in.psi.assign(in.size(), 0.0);
  in.psi[3] = 1.5;
  const auto reason = invalid_instruments(in);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("instrument 3"), std::string::npos) << *reason;

  const MrResult simple = fit_mr(MrMethod::egger, test::lipid_instruments(), MrOptions{});
  const MrResult delta = fit_mr(MrMethod::egger, test::lipid_instruments(), delta_options(0.5));
  ASSERT_TRUE(simple.estimable && delta.estimable);
  EXPECT_EQ(*simple.estimate, *delta.estimate);
  EXPECT_EQ(*simple.se, *delta.se);
}

TEST(IvwDeltaWeights, ParsesItsOptionValues) {
  EXPECT_EQ(parse_ivw_weights("simple", "x"), IvwWeights::simple);
  EXPECT_EQ(parse_ivw_weights("delta", "x"), IvwWeights::delta);
  EXPECT_THROW(parse_ivw_weights("second-order", "analysis.ivw-weights"), UsageError);
}

}  // namespace
}  // namespace deepmr::stats
