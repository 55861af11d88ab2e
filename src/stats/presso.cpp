#include "deepmr/stats/presso.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/normal_stream.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {
namespace {

// Leave-one-out IVW estimates b_i = sum_{j!=i} w x y / sum_{j!=i} w x^2 and the weighted RSS
// sum_i w_i (y_i - b_i x_i)^2. The sums without i are prefix + suffix, never total - own term,
// so an instrument that dominates the total does not cancel its own digits away. `suffix_xy`,
// `suffix_xx` are scratch of size n + 1. A term whose remaining sum of w x^2 is 0 is skipped (the
// package's na.rm = TRUE).
double loo_rss(const double* x, const double* y, const std::vector<double>& w, std::vector<double>& suffix_xy,
               std::vector<double>& suffix_xx, double* loo) {
  const std::size_t n = w.size();
  suffix_xy[n] = suffix_xx[n] = 0;
  for (std::size_t i = n; i-- > 0;) {
    suffix_xy[i] = suffix_xy[i + 1] + w[i] * x[i] * y[i];
    suffix_xx[i] = suffix_xx[i + 1] + w[i] * x[i] * x[i];
  }
  double prefix_xy = 0, prefix_xx = 0, rss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double sxx = prefix_xx + suffix_xx[i + 1];
    const double b = (prefix_xy + suffix_xy[i + 1]) / sxx;
    if (loo) loo[i] = b;
    if (sxx > 0) {
      const double e = y[i] - b * x[i];
      rss += w[i] * e * e;
    }
    prefix_xy += w[i] * x[i] * y[i];
    prefix_xx += w[i] * x[i] * x[i];
  }
  return rss;
}

}  // namespace

PressoTest presso_test(const Instruments& instruments, const PressoOptions& options) {
  const std::size_t n = instruments.size();
  if (n < 4) throw InternalError("stats: presso_test needs at least 4 instruments");
  if (options.distributions < 1) throw InternalError("stats: presso_test needs at least 1 distribution");
  std::vector<double> bx(n), by(n), w(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (instruments.bx[i] == 0 || !(instruments.byse[i] > 0))
      throw InternalError("stats: presso_test needs bx != 0 and byse > 0");
    const double sign = instruments.bx[i] < 0 ? -1.0 : 1.0;
    bx[i] = sign * instruments.bx[i];
    by[i] = sign * instruments.by[i];
    w[i] = 1 / (instruments.byse[i] * instruments.byse[i]);
  }

  PressoTest test;
  test.distributions = options.distributions;
  test.loo_estimate.resize(n);
  test.residual2.resize(n);
  std::vector<double> suffix_xy(n + 1), suffix_xx(n + 1);
  test.rss_obs = loo_rss(bx.data(), by.data(), w, suffix_xy, suffix_xx, test.loo_estimate.data());
  std::vector<double> mean_y(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double e = by[i] - test.loo_estimate[i] * bx[i];
    test.residual2[i] = e * e;
    mean_y[i] = test.loo_estimate[i] * bx[i];  // the package's predict() of the model without i
  }

  // Each data set: n normals for bx*, then n for by* (R's rnorm(n, bx, bxse), then one rnorm per
  // instrument), from one stream, so a data set's draws depend only on the seed and its number.
  NormalStream normals(options.seed, bootstrap_stream(MrMethod::mr_presso));
  std::vector<double> draws(2 * n);
  test.outlier_exceed.assign(n, 0);
  for (std::size_t d = 0; d < options.distributions; ++d) {
    normals.fill(draws.data(), 2 * n);
    double* x = draws.data();
    double* y = draws.data() + n;
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = bx[i] + instruments.bxse[i] * x[i];
      y[i] = mean_y[i] + instruments.byse[i] * y[i];
      const double e = y[i] - test.loo_estimate[i] * x[i];
      test.outlier_exceed[i] += e * e > test.residual2[i];
    }
    test.global_exceed += loo_rss(x, y, w, suffix_xy, suffix_xx, nullptr) > test.rss_obs;
  }
  const auto N = static_cast<double>(options.distributions);
  test.global_pvalue = static_cast<double>(test.global_exceed) / N;
  test.outlier_test = test.global_pvalue < options.threshold;
  if (test.outlier_test) {
    test.outlier_pvalue.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      test.outlier_pvalue[i] = std::min(1.0, static_cast<double>(test.outlier_exceed[i]) / N * static_cast<double>(n));
      if (test.outlier_pvalue[i] <= options.threshold) test.outliers.push_back(i);
    }
  }
  return test;
}

std::optional<PressoFit> presso_ivw(const Instruments& in, const std::vector<char>& excluded) {
  double sxy = 0, sxx = 0;
  std::size_t k = 0;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (!excluded[i]) {
      const double w = 1 / (in.byse[i] * in.byse[i]);
      sxy += w * in.bx[i] * in.by[i];
      sxx += w * in.bx[i] * in.bx[i];
      ++k;
    }
  if (k < 2 || !(sxx > 0)) return std::nullopt;
  PressoFit fit;
  fit.estimate = sxy / sxx;
  double rss = 0;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (!excluded[i]) {
      const double e = (in.by[i] - fit.estimate * in.bx[i]) / in.byse[i];
      rss += e * e;
    }
  fit.df = static_cast<long>(k) - 1;
  fit.residual_se = std::sqrt(rss / static_cast<double>(fit.df));
  fit.se = fit.residual_se / std::sqrt(sxx);
  fit.n_used = k;
  return fit;
}

MrResult fit_presso(const Instruments& instruments, const MrOptions& options) {
  const MrMethod method = MrMethod::mr_presso;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 4)
    return detail::not_estimable(method, n, "too few instruments (" + std::to_string(n) + " with bx != 0; mr-presso needs 4)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);
  if (options.presso_distributions < 1) throw InternalError("stats: MrOptions::presso_distributions must be at least 1");

  PressoOptions presso;
  presso.distributions = options.presso_distributions;
  presso.threshold = options.presso_threshold;
  presso.seed = options.seed;
  const PressoTest test = presso_test(used, presso);
  std::vector<char> excluded(n, 0);
  for (std::size_t i : test.outliers) excluded[i] = 1;
  const auto fit = presso_ivw(used, excluded);
  if (!fit)
    return detail::not_estimable(method, n,
                                 "the outlier test flags " + std::to_string(test.outliers.size()) + " of " +
                                     std::to_string(n) + " instruments: fewer than 2 remain for the corrected estimate");

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.model = test.outliers.empty() ? "raw" : "outlier-corrected";
  const WaldSummary wald = wald_summary(fit->estimate, fit->se, Distribution::t, static_cast<double>(fit->df), options.level);
  result.estimate = fit->estimate;
  result.se = fit->se;
  result.ci_low = wald.ci_low;
  result.ci_high = wald.ci_high;
  result.pvalue = wald.pvalue;
  result.df = fit->df;
  result.residual_se = fit->residual_se;
  result.q = test.rss_obs;
  result.q_pvalue = test.global_pvalue;
  result.n_used = fit->n_used;
  result.n_outliers = static_cast<long>(test.outliers.size());
  Instruments kept;
  for (std::size_t i = 0; i < n; ++i)
    if (!excluded[i]) kept.push_back(used.bx[i], used.bxse[i], used.by[i], used.byse[i]);
  result.f_mean = mean_f_statistic(kept);
  // The package's warning: Bonferroni-corrected p-values above 0 are at least n / N.
  const double resolution = static_cast<double>(n) / static_cast<double>(presso.distributions);
  if (test.outlier_test && resolution > presso.threshold)
    result.reason = "outlier test unstable: with " + std::to_string(presso.distributions) + " distributions and " +
                    std::to_string(n) + " instruments a corrected p-value is 0 or at least " +
                    detail::six_digits(resolution) + " > " + detail::six_digits(presso.threshold) +
                    " (increase the distributions)";
  return result;
}

}  // namespace deepmr::stats
