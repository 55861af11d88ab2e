#include "deepmr/stats/egger.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/least_squares.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {

MrResult fit_egger(const Instruments& instruments, const MrOptions& options) {
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 3)
    return detail::not_estimable(MrMethod::egger, n,
                                 "too few instruments (" + std::to_string(n) + " with bx != 0; egger needs 3)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(MrMethod::egger, n, *reason);

  // Oriented so that bx > 0: by changes sign with bx.
  const auto rows = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd X(rows, 2);
  Eigen::VectorXd y(rows), weights(rows);
  for (Eigen::Index i = 0; i < rows; ++i) {
    const auto j = static_cast<std::size_t>(i);
    const double sign = used.bx[j] < 0 ? -1.0 : 1.0;
    X(i, 0) = 1;
    X(i, 1) = sign * used.bx[j];
    y(i) = sign * used.by[j];
    weights(i) = 1 / (used.byse[j] * used.byse[j]);
  }
  const WlsFit fit = weighted_least_squares(X, y, weights);
  if (!fit.full_rank)
    return detail::not_estimable(MrMethod::egger, n,
                                 "all instruments have the same |bx|: slope and intercept are not identified");

  MrResult result;
  result.method = MrMethod::egger;
  result.estimable = true;
  result.n_used = n;
  const long df = static_cast<long>(n) - 2;
  const double rse = fit.residual_se();
  const double scale = std::max(1.0, rse);

  const double slope = fit.coefficients(1), slope_se = std::sqrt(fit.unscaled_covariance(1, 1)) * scale;
  const detail::EggerInference slope_inference = detail::egger_inference(slope, slope_se, rse, df, options);
  result.estimate = slope;
  result.se = slope_se;
  result.ci_low = slope_inference.ci_low;
  result.ci_high = slope_inference.ci_high;
  result.pvalue = slope_inference.pvalue;

  const double intercept = fit.coefficients(0), intercept_se = std::sqrt(fit.unscaled_covariance(0, 0)) * scale;
  const detail::EggerInference intercept_inference = detail::egger_inference(intercept, intercept_se, rse, df, options);
  result.intercept = intercept;
  result.intercept_se = intercept_se;
  result.intercept_ci_low = intercept_inference.ci_low;
  result.intercept_ci_high = intercept_inference.ci_high;
  result.intercept_pvalue = intercept_inference.pvalue;
  if (options.distribution == Distribution::t) result.df = df;

  result.q = fit.residual_sum_of_squares;
  result.q_df = df;
  result.q_pvalue = chi_squared_upper_p(fit.residual_sum_of_squares, static_cast<double>(df));
  result.residual_se = rse;
  result.i2_gx = i_squared_gx(used);
  result.f_mean = mean_f_statistic(used);
  return result;
}

}  // namespace deepmr::stats
