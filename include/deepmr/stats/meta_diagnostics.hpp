#pragma once
// Diagnostics of a random-effects meta-analysis as metafor 3.8 computes them (rma.uni, intercept
// only; y_i with sampling variances v_i; Q(t) = sum w_i (y_i - mu(t))^2 with w_i = 1 / (v_i + t)):
//
// Q-profile interval for tau^2 (confint.rma.uni, type "QP"): the tau^2 where Q(tau^2) equals the
//   chi-squared(k - 1) quantiles 1 - alpha/2 (lower bound) and alpha/2 (upper bound); Q falls as
//   tau^2 grows. metafor searches [0, tau2_max], tau2_max = max(100, 10 tau^2-hat):
//   Q(0) below the upper quantile: lower bound 0; Q(0) below the lower quantile: both bounds 0
//   (metafor's "null set", null_set here); Q(tau2_max) above a quantile: that bound is beyond
//   tau2_max (metafor prints "> tau2_max"; here it is empty and `note` says so). metafor's uniroot
//   stops within eps^0.25 ~ 1.2e-4; here the roots are solved to full precision. tau, I^2 and H^2
//   bounds follow from the tau^2 bounds: sqrt, 100 t / (v~ + t), t / v~ + 1 (v~ as in meta_analysis).
// Leave-one-out (leave1out): the fit without each study in turn, same options (a MetaResult each).
// Influence (influence.rma.uni), per study i with the fit without i giving mu_(i), tau^2_(i), its
//   variance vb_(i) and s2w_(i) (Knapp-Hartung's factor Q_(i)(tau^2_(i)) / (k - 2), else 1):
//   hat_i = w_i / sum w, weight = 100 hat_i, rstudent = (y_i - mu_(i)) / sqrt(s2w_(i) (v_i +
//   tau^2_(i)) + vb_(i)), dffits = (mu - mu_(i)) / sqrt(s2w_(i) hat_i (tau^2_(i) + v_i)),
//   cook.d = (mu - mu_(i))^2 / vb, cov.r = vb_(i) / vb, tau2.del, QE.del (Cochran's Q without i);
//   influential (metafor's "*") when |dffits| > 3 sqrt(1 / (k - 1)), P(chi^2_1 <= cook.d) > 0.5,
//   hat > 3 / k or |dfbetas| > 1, dfbetas = (mu - mu_(i)) / sqrt(s2w_(i) / sum_j 1/(v_j + tau^2_(i))).
//   For k = 2 the fit without i is one study: tau^2_(i) = 0, QE_(i) = 0 as metafor sets them.
// Egger's regression test (regtest, model "rma", predictor "sei"): the meta-regression
//   y_i = b0 + b1 sqrt(v_i) with the same tau^2 estimator (its moderator form: P = W - W X (X'WX)^-1 X'W
//   in place of the intercept-only sums) and test; the statistic is b1 / se(b1) (z, or t with k - 2 df
//   under Knapp-Hartung), the limit estimate is b0 with its interval. Needs k >= 3.
// Values that cannot be computed are empty with a reason; nothing is NaN or infinite.

#include <optional>
#include <string>
#include <vector>

#include "deepmr/stats/meta_analysis.hpp"

namespace deepmr::stats {

struct Tau2Interval {
  bool estimable = false;
  std::string reason;  // why not estimable (k = 1, fixed effect, bad input)
  std::optional<double> tau2_low, tau2_high, tau_low, tau_high, i2_low, i2_high, h2_low, h2_high;
  bool null_set = false;  // Q(0) is below the lower critical value: both bounds are 0
  std::string note;       // why a bound is empty (beyond tau2_max), else empty
  double tau2_max = 0;
};

Tau2Interval tau2_q_profile(const std::vector<double>& y, const std::vector<double>& v,
                            const MetaOptions& options = {});

std::vector<MetaResult> leave_one_out(const std::vector<double>& y, const std::vector<double>& v,
                                      const MetaOptions& options = {});

struct StudyInfluence {
  std::optional<double> rstudent, dffits, cook_d, cov_r, tau2_del, qe_del, hat, weight, dfbetas;
  bool influential = false;
  std::string reason;  // why the deletion values are empty
};

struct Influence {
  bool estimable = false;
  std::string reason;
  std::vector<StudyInfluence> studies;
};

Influence influence(const std::vector<double>& y, const std::vector<double>& v, const MetaOptions& options = {});

struct EggerTest {
  bool estimable = false;
  std::string reason;
  std::optional<double> statistic, pvalue, limit, limit_ci_low, limit_ci_high, tau2;
  std::optional<long> df;  // t degrees of freedom (k - 2) under Knapp-Hartung; empty for z
};

EggerTest egger_regression_test(const std::vector<double>& y, const std::vector<double>& v,
                                const MetaOptions& options = {});

}  // namespace deepmr::stats
