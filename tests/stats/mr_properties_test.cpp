// Properties every MR estimator must have, and the behaviour on degenerate input: exact order and
// sign-flip invariance, IVW's closed form, Egger on collinear data, the instrument filters, and
// "not estimable" (never NaN) for each way the data can fall short.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/ivw.hpp"
#include "deepmr/stats/mr.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

MrOptions quick_options(Distribution distribution = Distribution::normal) {
  MrOptions options;
  options.distribution = distribution;
  options.bootstrap_draws = 200;
  return options;
}

std::vector<std::optional<double>> numbers(const MrResult& r) {
  return {r.estimate, r.se,           r.ci_low,           r.ci_high,         r.pvalue, r.intercept,
          r.intercept_se, r.intercept_ci_low, r.intercept_ci_high, r.intercept_pvalue, r.q, r.q_pvalue,
          r.i2,       r.i2_gx,        r.f_mean,           r.residual_se};
}

// Bit for bit the same result.
void expect_identical(const MrResult& a, const MrResult& b) {
  SCOPED_TRACE(mr_method_name(a.method));
  EXPECT_EQ(a.status(), b.status());
  EXPECT_EQ(a.n_used, b.n_used);
  const auto x = numbers(a), y = numbers(b);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(x[i].has_value(), y[i].has_value()) << "field " << i;
    if (x[i]) {
      EXPECT_EQ(*x[i], *y[i]) << "field " << i;
    }
  }
}

// Estimable results have finite numbers only; the others have none.
void expect_no_nan(const MrResult& r) {
  SCOPED_TRACE(mr_method_name(r.method) + ": " + r.status());
  for (const auto& value : numbers(r)) {
    if (!r.estimable) {
      EXPECT_FALSE(value.has_value());
    } else if (value) {
      EXPECT_TRUE(std::isfinite(*value));
    }
  }
}

Instruments synthetic(std::size_t n, double effect, std::uint64_t seed, double pleiotropy = 0.002) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.5, 2.0);
  Instruments in;
  for (std::size_t i = 0; i < n; ++i) {
    const double bxse = 0.004 * uniform(rng), byse = 0.03 * uniform(rng);
    const double bx = 0.03 * normal(rng);
    const double by = effect * bx + pleiotropy * normal(rng) + byse * normal(rng);
    in.push_back(bx, bxse, by, byse);
  }
  return in;
}

Instruments permuted(const Instruments& in, std::uint64_t seed) {
  std::vector<std::size_t> order(in.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  Instruments out;
  for (std::size_t i : order) out.push_back(in.bx[i], in.bxse[i], in.by[i], in.byse[i]);
  return out;
}

std::vector<MrResult> fit_everything(const Instruments& in, const MrOptions& options) {
  return fit_all(all_mr_methods(), in, options);
}

TEST(MrProperties, EveryMethodIsInvariantToInstrumentOrder) {
  for (const Instruments& in : {test::lipid_instruments(), synthetic(300, 1.5, 7)}) {
    const auto reference = fit_everything(in, quick_options());
    const auto shuffled = fit_everything(permuted(in, 99), quick_options());
    for (std::size_t m = 0; m < reference.size(); ++m) {
      // conmix refuses the synthetic data's grid (weak instruments' ratio intervals span +-10^5 in
      // steps of 0.01); the refusal is invariant too.
      ASSERT_TRUE(reference[m].estimable || (reference[m].method == MrMethod::conmix && in.size() == 300))
          << reference[m].status();
      expect_identical(reference[m], shuffled[m]);
    }
  }
}

TEST(MrProperties, EveryMethodIsInvariantToFlippingTheSignOfAnInstrument) {
  const Instruments in = test::lipid_instruments();
  Instruments flipped = in;
  for (std::size_t i = 0; i < flipped.size(); i += 2) {
    flipped.bx[i] = -flipped.bx[i];
    flipped.by[i] = -flipped.by[i];
  }
  for (Distribution d : {Distribution::normal, Distribution::t}) {
    const auto reference = fit_everything(in, quick_options(d));
    const auto other = fit_everything(flipped, quick_options(d));
    for (std::size_t m = 0; m < reference.size(); ++m) {
      ASSERT_TRUE(reference[m].estimable) << reference[m].status();
      expect_identical(reference[m], other[m]);
    }
  }
}

TEST(MrProperties, IvwEqualsItsClosedForm) {
  const Instruments in = synthetic(500, 0.8, 3, 0.01);
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double w = 1 / (in.byse[i] * in.byse[i]);
    sxx += w * in.bx[i] * in.bx[i];
    sxy += w * in.bx[i] * in.by[i];
  }
  const double estimate = sxy / sxx, fixed_se = 1 / std::sqrt(sxx);
  double q = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double r = (in.by[i] - estimate * in.bx[i]) / in.byse[i];
    q += r * r;
  }
  const double rse = std::sqrt(q / static_cast<double>(in.size() - 1));

  const MrResult fixed = fit_mr(MrMethod::ivw_fixed, in, quick_options());
  EXPECT_REL(fixed.estimate, estimate, 1e-12);
  EXPECT_REL(fixed.se, fixed_se, 1e-12);
  EXPECT_REL(fixed.q, q, 1e-10);
  EXPECT_REL(fixed.residual_se, rse, 1e-10);
  EXPECT_REL(fixed.i2, std::max(0.0, (q - 499) / q), 1e-10);
  const MrResult random = fit_mr(MrMethod::ivw_random, in, quick_options());
  EXPECT_GT(rse, 1);  // the pleiotropy makes the data over-dispersed
  EXPECT_REL(random.se, fixed_se * rse, 1e-10);
  EXPECT_REL(random.ci_low, estimate - 1.959963984540054 * fixed_se * rse, 1e-10);
}

TEST(MrProperties, IvwDefaultModelIsFixedBelowFourInstruments) {
  Instruments three = synthetic(3, 1.0, 11, 0.05);
  const MrResult r3 = fit_mr(MrMethod::ivw, three, quick_options());
  EXPECT_EQ(r3.model, "fixed");
  EXPECT_EQ(*r3.se, *fit_mr(MrMethod::ivw_fixed, three, quick_options()).se);
  Instruments four = synthetic(4, 1.0, 11, 0.05);
  EXPECT_EQ(fit_mr(MrMethod::ivw, four, quick_options()).model, "random");
}

TEST(MrProperties, IvwWithOneInstrumentIsTheRatioEstimate) {
  Instruments one;
  one.push_back(-0.02, 0.004, 0.05, 0.01);
  const MrResult r = fit_mr(MrMethod::ivw, one, quick_options());
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_REL(r.estimate, 0.05 / -0.02, 1e-14);
  EXPECT_REL(r.se, 0.01 / 0.02, 1e-14);
  EXPECT_FALSE(r.q.has_value());  // no heterogeneity from one instrument
  expect_no_nan(r);
  const MrResult t = fit_mr(MrMethod::ivw, one, quick_options(Distribution::t));
  EXPECT_FALSE(t.estimable);
  EXPECT_NE(t.reason.find("t distribution needs at least 2"), std::string::npos) << t.reason;
}

TEST(MrProperties, EggerOnExactlyCollinearDataReturnsTheSlopeWithZeroIntercept) {
  const double slope = 1.75;
  Instruments in;
  for (int i = 1; i <= 12; ++i) {
    const double bx = (i % 3 == 0 ? -1 : 1) * 0.01 * i;  // some negative: orientation must not matter
    in.push_back(bx, 0.002 + 0.0001 * i, slope * bx, 0.01 + 0.001 * i);
  }
  for (Distribution d : {Distribution::normal, Distribution::t}) {
    const MrResult r = fit_mr(MrMethod::egger, in, quick_options(d));
    ASSERT_TRUE(r.estimable) << r.reason;
    EXPECT_REL(r.estimate, slope, 1e-12);
    EXPECT_NEAR(*r.intercept, 0.0, 1e-14);
    EXPECT_NEAR(*r.residual_se, 0.0, 1e-10);
    EXPECT_LT(*r.pvalue, 1e-10);  // an exact fit: the slope is certainly not zero
    expect_no_nan(r);
  }
}

TEST(MrProperties, InstrumentsWithoutInformationAreDroppedAndCounted) {
  const Instruments in = test::lipid_instruments();
  Instruments padded = in;
  for (int i = 0; i < 5; ++i) padded.push_back(0, 0, 0, 0);
  const auto with = fit_everything(padded, quick_options());
  const auto without = fit_everything(in, quick_options());
  for (std::size_t m = 0; m < with.size(); ++m) {
    EXPECT_EQ(with[m].counts.n_input, 33u);
    EXPECT_EQ(with[m].counts.n_no_information, 5u);
    EXPECT_EQ(with[m].counts.n_kept(), 28u);
    expect_identical(with[m], without[m]);
  }
}

TEST(MrProperties, StrengthFilterKeepsInstrumentsWithLargeZx) {
  const Instruments in = test::lipid_instruments();
  Instruments strong;
  std::size_t weak = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (std::fabs(in.bx[i] / in.bxse[i]) >= 2) strong.push_back(in.bx[i], in.bxse[i], in.by[i], in.byse[i]);
    else ++weak;
  }
  ASSERT_GT(weak, 5u);
  MrOptions filtered = quick_options();
  filtered.min_abs_z_x = 2;
  const auto a = fit_everything(in, filtered);
  const auto b = fit_everything(strong, quick_options());
  for (std::size_t m = 0; m < a.size(); ++m) {
    EXPECT_EQ(a[m].counts.n_weak, weak);
    // mr-presso's n_used is what its outlier test kept.
    EXPECT_EQ(a[m].n_used + static_cast<std::size_t>(a[m].n_outliers.value_or(0)), strong.size());
    expect_identical(a[m], b[m]);
  }
  // bxse = 0 is an infinitely strong instrument, not a weak one.
  Instruments exact = strong;
  exact.push_back(0.01, 0, 0.02, 0.01);
  EXPECT_EQ(fit_mr(MrMethod::ivw, exact, filtered).counts.n_weak, 0u);
}

TEST(MrProperties, RatioMethodsAndEggerLeaveOutInstrumentsWithZeroBx) {
  Instruments in = test::lipid_instruments();
  in.push_back(0, 0.004, 0.03, 0.02);
  for (const MrResult& r : fit_everything(in, quick_options())) {
    // The regressions through the origin use it (it adds to their weights' sums); the others cannot.
    const bool ivw = r.method == MrMethod::ivw || r.method == MrMethod::ivw_fixed || r.method == MrMethod::ivw_random ||
                     r.method == MrMethod::ivw_penalized || r.method == MrMethod::divw ||
                     r.method == MrMethod::ivw_robust || r.method == MrMethod::ivw_penalized_robust;
    const auto outliers = static_cast<std::size_t>(r.n_outliers.value_or(0));  // mr-presso: removed, not used
    EXPECT_EQ(r.n_used + outliers, ivw ? 29u : 28u) << mr_method_name(r.method);
    expect_no_nan(r);
  }
}

TEST(MrProperties, BootstrapIsAPureFunctionOfTheSeedAndMethod) {
  const Instruments in = synthetic(200, 1.2, 5);
  const MrOptions options = quick_options();
  const MrResult a = fit_mr(MrMethod::median_weighted, in, options);
  const MrResult b = fit_all({MrMethod::mode_weighted, MrMethod::egger, MrMethod::median_weighted}, in, options)[2];
  expect_identical(a, b);  // other methods in the same fit do not shift its draws
  MrOptions other = options;
  other.seed = options.seed + 1;
  EXPECT_NE(*a.se, *fit_mr(MrMethod::median_weighted, in, other).se);
  EXPECT_NE(bootstrap_stream(MrMethod::median_weighted), bootstrap_stream(MrMethod::median_simple));
}

TEST(MrProperties, ZeroBootstrapDrawsGiveTheEstimateOnly) {
  MrOptions options = quick_options();
  options.bootstrap_draws = 0;
  for (MrMethod method : {MrMethod::median_weighted, MrMethod::median_simple, MrMethod::mode_weighted}) {
    const MrResult r = fit_mr(method, test::lipid_instruments(), options);
    EXPECT_TRUE(r.estimable);
    EXPECT_EQ(r.status(), "ok");
    EXPECT_TRUE(r.estimate.has_value());
    EXPECT_FALSE(r.se.has_value());
    EXPECT_FALSE(r.pvalue.has_value());
  }
}

// Each way the data can fall short, and the reason each method gives.
struct Degenerate {
  std::string name;
  Instruments instruments;
  std::vector<std::pair<MrMethod, std::string>> expected;  // method, substring of the reason
  Distribution distribution = Distribution::normal;
};

std::vector<Degenerate> degenerate_cases() {
  const Instruments lipids = test::lipid_instruments();
  std::vector<Degenerate> cases;
  cases.push_back({"empty", Instruments{}, {{MrMethod::ivw, "no instruments"}, {MrMethod::egger, "too few"},
                                            {MrMethod::median_weighted, "too few"}, {MrMethod::mode_weighted, "too few"}}});
  Instruments two;
  two.push_back(0.1, 0.01, 0.2, 0.05);
  two.push_back(0.2, 0.01, 0.3, 0.05);
  cases.push_back({"two instruments", two, {{MrMethod::egger, "too few instruments (2"},
                                            {MrMethod::median_simple, "too few instruments (2"},
                                            {MrMethod::mode_weighted, "too few instruments (2"}}});
  Instruments zero_bx;
  for (int i = 0; i < 5; ++i) zero_bx.push_back(0, 0.01, 0.01 * i, 0.05);
  cases.push_back({"all bx zero", zero_bx, {{MrMethod::ivw, "all bx are zero"}, {MrMethod::egger, "too few"},
                                            {MrMethod::median_weighted, "too few"}}});
  Instruments zero_byse = lipids;
  zero_byse.byse[3] = 0;
  cases.push_back({"byse zero", zero_byse, {{MrMethod::ivw, "byse = 0"}, {MrMethod::egger, "byse = 0"},
                                            {MrMethod::median_weighted, "byse = 0"},
                                            {MrMethod::mode_weighted, "byse = 0"}}});
  Instruments negative = lipids;
  negative.bxse[4] = -0.1;
  cases.push_back({"negative se", negative, {{MrMethod::ivw, "instrument 4 has a negative bxse"},
                                             {MrMethod::median_simple, "negative bxse"}}});
  Instruments not_finite = lipids;
  not_finite.by[2] = NAN;
  not_finite.bx[7] = INFINITY;
  cases.push_back({"non-finite", not_finite, {{MrMethod::ivw, "instrument 2 has a non-finite by"},
                                              {MrMethod::egger, "non-finite"}}});
  Instruments same_bx;
  for (int i = 0; i < 6; ++i) same_bx.push_back(i % 2 ? 0.05 : -0.05, 0.01, 0.01 * i, 0.05);
  cases.push_back({"equal |bx|", same_bx, {{MrMethod::egger, "same |bx|"}}});
  Instruments no_spread;
  // Five of seven ratios exactly 2 (powers of two scale exactly): the MAD, hence the bandwidth, is 0.
  for (int i = 0; i < 7; ++i) no_spread.push_back(0.25 * (i + 1), 0.001, i < 5 ? 0.5 * (i + 1) : 1.0, 0.05);
  cases.push_back({"equal ratios", no_spread, {{MrMethod::mode_weighted, "no spread"}}});
  Instruments one;
  one.push_back(0.1, 0.01, 0.2, 0.05);
  cases.push_back({"t with one instrument", one, {{MrMethod::ivw, "t distribution"}}, Distribution::t});
  return cases;
}

TEST(MrProperties, DegenerateInputSaysWhyInsteadOfNaN) {
  for (const Degenerate& c : degenerate_cases()) {
    SCOPED_TRACE(c.name);
    for (const auto& [method, reason] : c.expected) {
      const MrResult r = fit_mr(method, c.instruments, quick_options(c.distribution));
      EXPECT_FALSE(r.estimable) << mr_method_name(method);
      EXPECT_NE(r.reason.find(reason), std::string::npos) << mr_method_name(method) << ": " << r.reason;
      EXPECT_EQ(r.status(), "not estimable: " + r.reason);
    }
    for (const MrResult& r : fit_all(all_mr_methods(), c.instruments, quick_options(c.distribution)))
      expect_no_nan(r);
  }
}

TEST(MrProperties, MismatchedVectorsAreACallerBug) {
  Instruments broken = test::lipid_instruments();
  broken.byse.pop_back();
  EXPECT_THROW(fit_mr(MrMethod::ivw, broken), InternalError);
}

TEST(MrProperties, MethodNamesParseAndRoundTrip) {
  for (MrMethod method : all_mr_methods()) EXPECT_EQ(parse_mr_method(mr_method_name(method)), method);
  EXPECT_EQ(parse_mr_methods("egger, ivw,median-simple"),
            (std::vector<MrMethod>{MrMethod::egger, MrMethod::ivw, MrMethod::median_simple}));
  EXPECT_THROW(parse_mr_methods("egger,lasso"), UsageError);
  EXPECT_THROW(parse_mr_methods("egger,egger"), UsageError);
  EXPECT_THROW(parse_mr_methods(""), UsageError);
  EXPECT_EQ(default_mr_methods().size(), 4u);
}

}  // namespace
}  // namespace deepmr::stats
