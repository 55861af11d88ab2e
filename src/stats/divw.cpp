#include "deepmr/stats/divw.hpp"

#include <cmath>
#include <sstream>

#include "deepmr/stats/heterogeneity.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {

MrResult fit_divw(const Instruments& in, const MrOptions& options) {
  const MrMethod method = MrMethod::divw;
  const std::size_t n = in.size();
  if (n == 0) return detail::not_estimable(method, n, "no instruments");
  if (auto reason = detail::zero_byse_reason(in)) return detail::not_estimable(method, n, *reason);
  std::size_t zero_bxse = 0;
  for (double se : in.bxse) zero_bxse += se == 0;
  if (zero_bxse > 0)
    return detail::not_estimable(method, n,
                                 std::to_string(zero_bxse) + " of " + std::to_string(n) +
                                     " instruments have bxse = 0 (divw's bias correction and condition need bxse > 0)");
  if (options.distribution == Distribution::t && n < 2)
    return detail::not_estimable(method, n, "the t distribution needs at least 2 instruments (J - 1 df)");

  double numerator = 0, denominator = 0, sum_w = 0, sum_f = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = 1 / (in.byse[i] * in.byse[i]);
    numerator += in.bx[i] * in.by[i] * w;
    denominator += (in.bx[i] * in.bx[i] - in.bxse[i] * in.bxse[i]) * w;
    sum_w += w;
    const double z = in.bx[i] / in.bxse[i];
    sum_f += z * z;
  }
  if (!(denominator > 0))
    return detail::not_estimable(method, n,
                                 "the instruments are too weak: sum (bx^2 - bxse^2) / byse^2 is not positive (divw's "
                                 "denominator)");
  const double beta = numerator / denominator;
  double excess = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = 1 / (in.byse[i] * in.byse[i]);
    const double residual = in.by[i] - beta * in.bx[i];
    excess += (residual * residual - in.byse[i] * in.byse[i] - beta * beta * in.bxse[i] * in.bxse[i]) * w;
  }
  const double tau2 = std::max(0.0, excess / sum_w);
  double v1 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = 1 / (in.byse[i] * in.byse[i]);
    const double bx2 = in.bx[i] * in.bx[i], bxse2 = in.bxse[i] * in.bxse[i];
    v1 += bx2 * w + beta * beta * bxse2 * (bx2 + bxse2) * w * w + tau2 * bx2 * w * w;
  }
  const double se = std::sqrt(v1) / denominator;

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  detail::set_wald(result, beta, se, options, static_cast<long>(n) - 1);
  result.f_mean = mean_f_statistic(in);
  const double condition = (sum_f / static_cast<double>(n) - 1) * std::sqrt(static_cast<double>(n));
  result.condition = condition;
  result.tau2 = tau2;
  if (std::isfinite(condition) && condition < 20) {
    std::ostringstream text;
    text << "the instrument-strength condition (mean F - 1) sqrt(J) = " << condition
         << " is below 20: divw's normal approximation may be unreliable";
    result.reason = text.str();
  }
  return result;
}

}  // namespace deepmr::stats
