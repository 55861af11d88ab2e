#include "deepmr/stats/mode.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/kernel_density.hpp"
#include "deepmr/stats/normal_stream.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {
namespace {

// Hartwig's bandwidth: phi * 0.9 * min(sd, mad) / J^(1/5).
double bandwidth(const std::vector<double>& ratios, double phi) {
  const double spread = std::min(detail::sample_sd(ratios), detail::median_absolute_deviation(ratios));
  return phi * 0.9 * spread / std::pow(static_cast<double>(ratios.size()), 0.2);
}

}  // namespace

double mode_based_estimate(const std::vector<double>& ratios, const std::vector<double>& weights, double phi) {
  if (ratios.size() < 2) return NAN;
  const double h = bandwidth(ratios, phi);
  if (!(h > 0) || !std::isfinite(h)) return NAN;
  KernelDensity density;
  return density.mode(ratios, weights, h);
}

MrResult fit_mode(const Instruments& instruments, const MrOptions& options) {
  const MrMethod method = MrMethod::mode_weighted;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 3)
    return detail::not_estimable(method, n,
                                 "too few instruments (" + std::to_string(n) + " with bx != 0; mode-weighted needs 3)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);
  if (!(options.mode_phi > 0)) return detail::not_estimable(method, n, "the bandwidth factor phi must be positive");

  // Ratio estimates, their second-order ("delta") SEs and normalised weights s^-2.
  std::vector<double> ratios(n), ratio_se(n), weights(n);
  double weight_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double bx = used.bx[i], by = used.by[i];
    ratios[i] = by / bx;
    ratio_se[i] = std::sqrt(used.byse[i] * used.byse[i] / (bx * bx) +
                            by * by * used.bxse[i] * used.bxse[i] / (bx * bx * bx * bx));
    weights[i] = 1 / (ratio_se[i] * ratio_se[i]);
    weight_sum += weights[i];
  }
  for (double& w : weights) w /= weight_sum;

  const double h = bandwidth(ratios, options.mode_phi);
  if (!(h > 0) || !std::isfinite(h))
    return detail::not_estimable(method, n,
                                 "the ratio estimates have no spread (bandwidth 0: at least half of them are equal)");
  KernelDensity density;
  const double estimate = density.mode(ratios, weights, h);

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  result.estimate = estimate;
  const std::size_t draws = options.bootstrap_draws;
  if (draws >= 2) {
    NormalStream normals(options.seed, bootstrap_stream(method));
    std::vector<double> z(n), boot(n), estimates(draws);
    for (std::size_t d = 0; d < draws; ++d) {
      normals.fill(z.data(), n);
      for (std::size_t i = 0; i < n; ++i) boot[i] = ratios[i] + ratio_se[i] * z[i];
      const double boot_h = bandwidth(boot, options.mode_phi);
      if (!(boot_h > 0) || !std::isfinite(boot_h))
        return detail::not_estimable(method, n, "a bootstrap draw had no spread in its ratio estimates");
      estimates[d] = density.mode(boot, weights, boot_h);
    }
    const double se = detail::median_absolute_deviation(estimates);
    detail::set_wald(result, estimate, se, options, static_cast<long>(n) - 1);
    result.bootstrap_draws = draws;
  }
  result.f_mean = mean_f_statistic(used);
  return result;
}

}  // namespace deepmr::stats
