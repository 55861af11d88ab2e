// Meta-analysis beyond the reference numbers: k = 1, k = 2, homogeneous and degenerate data,
// order invariance, a large simulated data set, and the estimator names.
#include "deepmr/stats/meta_analysis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "deepmr/common/error.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

const std::vector<Tau2Method> kAllMethods{Tau2Method::dl, Tau2Method::reml, Tau2Method::ml, Tau2Method::pm,
                                          Tau2Method::he, Tau2Method::sj,   Tau2Method::eb, Tau2Method::fe};

MetaOptions with(Tau2Method method, bool knha = false) {
  MetaOptions options;
  options.tau2_method = method;
  options.knha = knha;
  return options;
}

TEST(MetaAnalysis, OneStudyIsItsOwnEstimateWithNothingToSayAboutHeterogeneity) {
  for (Tau2Method method : kAllMethods) {
    SCOPED_TRACE(tau2_method_name(method));
    const MetaResult r = meta_analysis({0.4}, {0.2}, with(method));
    ASSERT_TRUE(r.estimable) << r.reason;
    EXPECT_EQ(r.k, 1u);
    EXPECT_EQ(*r.estimate, 0.4);
    EXPECT_EQ(*r.se, 0.2);
    EXPECT_REL(r.ci_low, 0.4 - 1.959963984540054 * 0.2, 1e-14);
    EXPECT_REL(r.pvalue, 0.04550026389635842, 1e-12);  // 2 * pnorm(-2)
    EXPECT_EQ(r.q_df, 0);
    for (const auto& empty : {r.tau2, r.tau, r.i2, r.h2, r.q, r.q_pvalue, r.pi_low, r.pi_high})
      EXPECT_FALSE(empty.has_value());
  }
  const MetaResult knha = meta_analysis({0.4}, {0.2}, with(Tau2Method::dl, true));
  EXPECT_TRUE(knha.estimable);
  EXPECT_EQ(*knha.estimate, 0.4);
  EXPECT_FALSE(knha.ci_low.has_value());  // t with 0 df does not exist
  EXPECT_FALSE(knha.pvalue.has_value());
}

TEST(MetaAnalysis, TwoStudiesWorkForEveryEstimator) {
  const std::vector<double> y{0.1, 0.9}, se{0.1, 0.15};
  for (Tau2Method method : kAllMethods) {
    for (bool knha : {false, true}) {
      SCOPED_TRACE(tau2_method_name(method) + (knha ? " knha" : ""));
      const MetaResult r = meta_analysis(y, se, with(method, knha));
      ASSERT_TRUE(r.estimable) << r.reason;
      EXPECT_EQ(r.q_df, 1);
      for (const auto& value : {r.estimate, r.se, r.ci_low, r.ci_high, r.pvalue, r.tau2, r.tau, r.i2, r.h2, r.q,
                                r.q_pvalue, r.pi_low, r.pi_high}) {
        ASSERT_TRUE(value.has_value());
        EXPECT_TRUE(std::isfinite(*value));
      }
      EXPECT_LE(*r.ci_low, *r.estimate);
      EXPECT_LE(*r.pi_low, *r.ci_low);
    }
  }
  // DerSimonian-Laird by hand: w = 100, 44.4...; Q = sum w (y - mu)^2.
  const double w1 = 100, w2 = 1 / 0.0225, mu = (w1 * 0.1 + w2 * 0.9) / (w1 + w2);
  const double q = w1 * (0.1 - mu) * (0.1 - mu) + w2 * (0.9 - mu) * (0.9 - mu);
  const double tau2 = (q - 1) / (w1 + w2 - (w1 * w1 + w2 * w2) / (w1 + w2));
  const MetaResult dl = meta_analysis(y, se, with(Tau2Method::dl, true));
  EXPECT_REL(dl.q, q, 1e-12);
  EXPECT_REL(dl.tau2, tau2, 1e-12);
  EXPECT_EQ(dl.df, 1);
  const double spread = std::sqrt(*dl.se * *dl.se + tau2);
  EXPECT_REL(dl.pi_high, *dl.estimate + 12.70620473617471 * spread, 1e-12);  // qt(0.975, 1)
}

TEST(MetaAnalysis, HomogeneousStudiesHaveNoHeterogeneity) {
  const std::vector<double> y(6, 0.25), se{0.1, 0.2, 0.15, 0.3, 0.12, 0.2};
  for (Tau2Method method : kAllMethods) {
    SCOPED_TRACE(tau2_method_name(method));
    const MetaResult r = meta_analysis(y, se, with(method));
    ASSERT_TRUE(r.estimable) << r.reason;
    EXPECT_EQ(*r.tau2, 0.0);
    EXPECT_NEAR(*r.estimate, 0.25, 1e-15);
    EXPECT_NEAR(*r.q, 0.0, 1e-20);
    EXPECT_EQ(*r.i2, 0.0);
  }
}

TEST(MetaAnalysis, FixedEffectPredictionIntervalIsTheConfidenceInterval) {
  const MetaResult r = meta_analysis({0.1, 0.5, 0.3}, {0.1, 0.2, 0.1}, with(Tau2Method::fe));
  EXPECT_EQ(*r.tau2, 0.0);
  EXPECT_EQ(*r.pi_low, *r.ci_low);
  EXPECT_EQ(*r.pi_high, *r.ci_high);
}

TEST(MetaAnalysis, DegenerateInputIsNotEstimable) {
  struct Case {
    std::vector<double> y, se;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{{{}, {}, "no estimates"},
                                         {{0.1, 0.2}, {0.1, 0.0}, "estimate 1 has a variance"},
                                         {{0.1, NAN}, {0.1, 0.1}, "estimate 1 is not finite"},
                                         {{0.1, 0.2}, {INFINITY, 0.1}, "estimate 0 has a variance"}}) {
    const MetaResult r = meta_analysis(c.y, c.se);
    EXPECT_FALSE(r.estimable);
    EXPECT_NE(r.reason.find(c.reason), std::string::npos) << r.reason;
    EXPECT_FALSE(r.estimate.has_value());
    EXPECT_EQ(r.status(), "not estimable: " + r.reason);
  }
  EXPECT_THROW(meta_analysis({0.1, 0.2}, {0.1}), InternalError);
}

TEST(MetaAnalysis, OrderOfStudiesDoesNotMatter) {
  auto c = test::read_columns(test::validation_file("meta/bcg_log_rr.tsv"));
  std::vector<double> y = c["estimate"], v = c["variance"];
  std::vector<double> y2(y.rbegin(), y.rend()), v2(v.rbegin(), v.rend());
  for (Tau2Method method : kAllMethods) {
    const MetaResult a = meta_analysis_variances(y, v, with(method)), b = meta_analysis_variances(y2, v2, with(method));
    EXPECT_REL(b.estimate, *a.estimate, 1e-13);
    if (*a.tau2 > 0) {
      EXPECT_REL(b.tau2, *a.tau2, 1e-12);
    }
  }
}

TEST(MetaAnalysis, RecoversTheTrueHeterogeneityOfALargeSimulation) {
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.05, 0.3);
  const double mu = 0.7, tau = 0.2;
  std::vector<double> y(200000), se(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    se[i] = uniform(rng);
    y[i] = mu + tau * normal(rng) + se[i] * normal(rng);
  }
  for (Tau2Method method : {Tau2Method::dl, Tau2Method::reml, Tau2Method::pm}) {
    const MetaResult r = meta_analysis(y, se, with(method));
    ASSERT_TRUE(r.estimable) << r.reason;
    EXPECT_NEAR(*r.tau, tau, 0.01) << tau2_method_name(method);
    EXPECT_NEAR(*r.estimate, mu, 0.005) << tau2_method_name(method);
  }
}

TEST(MetaAnalysis, EstimatorNamesParseInAnyCase) {
  for (Tau2Method method : kAllMethods) EXPECT_EQ(parse_tau2_method(tau2_method_name(method)), method);
  EXPECT_EQ(parse_tau2_method("reml"), Tau2Method::reml);
  EXPECT_THROW(parse_tau2_method("GENQ"), UsageError);
}

}  // namespace
}  // namespace deepmr::stats
