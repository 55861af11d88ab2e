#include "deepmr/stats/penalized.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/least_squares.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {
namespace {

constexpr double kRegressionFactor = 100;  // MendelianRandomization's r.weights and mr_egger

// min(1, factor q) for the heterogeneity contribution `contribution` (chi-squared, 1 df).
double penalty(double contribution, double factor) {
  return std::min(1.0, factor * chi_squared_upper_p(contribution, 1));
}

}  // namespace

namespace detail {

Eigen::VectorXd ivw_penalized_weights(const Instruments& in) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (in.bx[i] != 0) ratios.push_back(in.by[i] / in.bx[i]);
  const double theta = median_of(ratios);
  Eigen::VectorXd w(static_cast<Eigen::Index>(in.size()));
  for (std::size_t j = 0; j < in.size(); ++j) {
    const double base = 1 / (in.byse[j] * in.byse[j]);
    const double residual = in.by[j] - theta * in.bx[j];
    w(static_cast<Eigen::Index>(j)) = base * penalty(residual * residual * base, kRegressionFactor);
  }
  return w;
}

Eigen::VectorXd egger_penalized_weights(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& base,
                                        const Eigen::VectorXd& coefficients) {
  Eigen::VectorXd w(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double residual = y(i) - coefficients(0) - coefficients(1) * X(i, 1);
    w(i) = base(i) * penalty(residual * residual * base(i), kRegressionFactor);
  }
  return w;
}

PositiveRows positive_rows(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  Eigen::Index kept = 0;
  for (Eigen::Index i = 0; i < w.size(); ++i) kept += w(i) > 0;
  PositiveRows rows{Eigen::MatrixXd(kept, X.cols()), Eigen::VectorXd(kept), Eigen::VectorXd(kept)};
  for (Eigen::Index i = 0, k = 0; i < w.size(); ++i)
    if (w(i) > 0) {
      rows.X.row(k) = X.row(i);
      rows.y(k) = y(i);
      rows.w(k) = w(i);
      ++k;
    }
  return rows;
}

}  // namespace detail

MrResult fit_ivw_penalized(const Instruments& in, const MrOptions& options) {
  const MrMethod method = MrMethod::ivw_penalized;
  const std::size_t n = in.size();
  if (n < 2)
    return detail::not_estimable(method, n, "too few instruments (" + std::to_string(n) + "; ivw-penalized needs 2)");
  if (auto reason = detail::zero_byse_reason(in)) return detail::not_estimable(method, n, *reason);
  if (std::all_of(in.bx.begin(), in.bx.end(), [](double bx) { return bx == 0; }))
    return detail::not_estimable(method, n, "all bx are zero: the instruments do not move the exposure");
  const auto rows = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd X(rows, 1);
  Eigen::VectorXd y(rows);
  for (Eigen::Index i = 0; i < rows; ++i) {
    X(i, 0) = in.bx[static_cast<std::size_t>(i)];
    y(i) = in.by[static_cast<std::size_t>(i)];
  }
  const Eigen::VectorXd w = detail::ivw_penalized_weights(in);
  const detail::PositiveRows kept = detail::positive_rows(X, y, w);
  if (kept.X.rows() < 2 || (kept.X.array() != 0).count() == 0)
    return detail::not_estimable(method, n,
                                 "the penalized weights leave fewer than 2 instruments with weight > 0 and bx != 0");
  const WlsFit fit = weighted_least_squares(kept.X, kept.y, kept.w);
  if (!fit.full_rank) return detail::not_estimable(method, n, "the penalized regression is rank deficient");

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  const bool random = n >= 4;  // the package's model = "default"
  result.model = random ? "random" : "fixed";
  const double rse = fit.residual_se();
  const double fixed_se = std::sqrt(fit.unscaled_covariance(0, 0));
  detail::set_wald(result, fit.coefficients(0), random ? fixed_se * std::max(1.0, rse) : fixed_se, options,
                   static_cast<long>(n) - 1);
  result.residual_se = rse;
  result.f_mean = mean_f_statistic(in);
  return result;
}

MrResult fit_egger_penalized(const Instruments& instruments, const MrOptions& options) {
  const MrMethod method = MrMethod::egger_penalized;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 3)
    return detail::not_estimable(method, n,
                                 "too few instruments (" + std::to_string(n) + " with bx != 0; egger-penalized needs 3)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);

  const auto rows = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd X(rows, 2);
  Eigen::VectorXd y(rows), base(rows);
  for (Eigen::Index i = 0; i < rows; ++i) {
    const auto j = static_cast<std::size_t>(i);
    const double sign = used.bx[j] < 0 ? -1.0 : 1.0;
    X(i, 0) = 1;
    X(i, 1) = sign * used.bx[j];
    y(i) = sign * used.by[j];
    base(i) = 1 / (used.byse[j] * used.byse[j]);
  }
  const WlsFit first = weighted_least_squares(X, y, base);
  if (!first.full_rank)
    return detail::not_estimable(method, n,
                                 "all instruments have the same |bx|: slope and intercept are not identified");
  const Eigen::VectorXd w = detail::egger_penalized_weights(X, y, base, first.coefficients);
  const detail::PositiveRows kept = detail::positive_rows(X, y, w);
  if (kept.X.rows() < 3)
    return detail::not_estimable(method, n, "the penalized weights leave fewer than 3 instruments with weight > 0");
  const WlsFit fit = weighted_least_squares(kept.X, kept.y, kept.w);
  if (!fit.full_rank)
    return detail::not_estimable(method, n,
                                 "the instruments with penalized weight > 0 have the same |bx|: slope and intercept "
                                 "are not identified");

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  const long df = static_cast<long>(n) - 2;  // the package's, whatever the weights
  const double rse = fit.residual_se(), scale = std::max(1.0, rse);
  const double slope = fit.coefficients(1), slope_se = std::sqrt(fit.unscaled_covariance(1, 1)) * scale;
  const detail::EggerInference s = detail::egger_inference(slope, slope_se, rse, df, options);
  result.estimate = slope;
  result.se = slope_se;
  result.ci_low = s.ci_low;
  result.ci_high = s.ci_high;
  result.pvalue = s.pvalue;
  const double intercept = fit.coefficients(0), intercept_se = std::sqrt(fit.unscaled_covariance(0, 0)) * scale;
  const detail::EggerInference a = detail::egger_inference(intercept, intercept_se, rse, df, options);
  result.intercept = intercept;
  result.intercept_se = intercept_se;
  result.intercept_ci_low = a.ci_low;
  result.intercept_ci_high = a.ci_high;
  result.intercept_pvalue = a.pvalue;
  if (options.distribution == Distribution::t) result.df = df;
  result.residual_se = rse;
  result.i2_gx = i_squared_gx(used);
  result.f_mean = mean_f_statistic(used);
  return result;
}

}  // namespace deepmr::stats
