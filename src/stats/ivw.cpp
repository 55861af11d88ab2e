#include "deepmr/stats/ivw.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/least_squares.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {

MrResult fit_ivw(const Instruments& instruments, IvwModel model, const MrOptions& options) {
  const MrMethod method = model == IvwModel::automatic ? MrMethod::ivw
                          : model == IvwModel::fixed   ? MrMethod::ivw_fixed
                                                       : MrMethod::ivw_random;
  const std::size_t n = instruments.size();
  if (n == 0) return detail::not_estimable(method, n, "no instruments");
  if (auto reason = detail::zero_byse_reason(instruments)) return detail::not_estimable(method, n, *reason);
  if (std::all_of(instruments.bx.begin(), instruments.bx.end(), [](double bx) { return bx == 0; }))
    return detail::not_estimable(method, n, "all bx are zero: the instruments do not move the exposure");
  if (options.distribution == Distribution::t && n < 2)
    return detail::not_estimable(method, n, "the t distribution needs at least 2 instruments (J - 1 df)");

  const auto rows = static_cast<Eigen::Index>(n);
  const Eigen::Map<const Eigen::VectorXd> bx(instruments.bx.data(), rows), by(instruments.by.data(), rows);
  const Eigen::VectorXd weights =
      Eigen::Map<const Eigen::VectorXd>(instruments.byse.data(), rows).array().square().inverse();
  const WlsFit fit = weighted_least_squares(bx, by, weights);

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  const bool random = model == IvwModel::random || (model == IvwModel::automatic && n >= 4);
  result.model = random ? "random" : "fixed";

  const double fixed_se = std::sqrt(fit.unscaled_covariance(0, 0));
  double residual_se = 1;  // one instrument has no residual: the random model is the fixed one
  if (n >= 2) {
    residual_se = fit.residual_se();
    const double df = static_cast<double>(n - 1);
    result.q = fit.residual_sum_of_squares;
    result.q_df = static_cast<long>(n - 1);
    result.q_pvalue = chi_squared_upper_p(fit.residual_sum_of_squares, df);
    result.i2 = i_squared(fit.residual_sum_of_squares, df);
    result.residual_se = residual_se;
  }
  const double se = random ? fixed_se * std::max(1.0, residual_se) : fixed_se;
  detail::set_wald(result, fit.coefficients(0), se, options, static_cast<long>(n) - 1);
  result.f_mean = mean_f_statistic(instruments);
  return result;
}

}  // namespace deepmr::stats
