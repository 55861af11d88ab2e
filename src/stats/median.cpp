#include "deepmr/stats/median.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/penalized.hpp"
#include "deepmr/stats/weighted_median.hpp"
#include "bootstrap_draws.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {
namespace {

// One draw's ratio estimates (by + byse zy) / (bx + bxse zx), lane by lane where the CPU has the
// width (the same operations per instrument, no fused multiply-add).
__attribute__((target_clones("avx512f", "avx2", "default"))) void resampled_ratios(
    std::size_t n, const double* __restrict bx, const double* __restrict bxse, const double* __restrict by,
    const double* __restrict byse, const double* __restrict zx, const double* __restrict zy,
    double* __restrict ratios) {
  for (std::size_t i = 0; i < n; ++i) ratios[i] = (by[i] + byse[i] * zy[i]) / (bx[i] + bxse[i] * zx[i]);
}

// The result of a median estimate with its bootstrap SE (weights fixed).
MrResult with_bootstrap(MrMethod method, const Instruments& used, const FixedWeights& fixed, double estimate,
                        const MrOptions& options) {
  const std::size_t n = used.size();
  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  result.estimate = estimate;
  const std::size_t draws = options.bootstrap_draws;
  if (draws >= 2) {
    // MendelianRandomization's order per draw: n normals for bx, then n for by.
    const std::size_t workers = std::max<std::size_t>(1, options.threads);
    std::vector<WeightedMedianSelector> select(workers, WeightedMedianSelector(fixed));
    std::vector<std::vector<double>> boot(workers, std::vector<double>(n));
    std::vector<double> estimates(draws);
    detail::for_each_bootstrap_draw(
        options.seed, bootstrap_stream(method), 2 * n, draws, workers,
        [&](std::size_t w, std::size_t d, const double* z) {
          resampled_ratios(n, used.bx.data(), used.bxse.data(), used.by.data(), used.byse.data(), z, z + n,
                           boot[w].data());
          estimates[d] = select[w](boot[w]);
        });
    const double se = detail::sample_sd(estimates);
    if (!std::isfinite(se))
      return detail::not_estimable(method, n, "the bootstrap gave an undefined estimate (a resampled bx of 0)");
    detail::set_wald(result, estimate, se, options, static_cast<long>(n) - 1);
    result.bootstrap_draws = draws;
  }
  result.f_mean = mean_f_statistic(used);
  return result;
}

}  // namespace

MrResult fit_median(const Instruments& instruments, bool weighted, const MrOptions& options) {
  const MrMethod method = weighted ? MrMethod::median_weighted : MrMethod::median_simple;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 3)
    return detail::not_estimable(method, n,
                                 "too few instruments (" + std::to_string(n) + " with bx != 0; " +
                                     mr_method_name(method) + " needs 3)");
  if (weighted)
    if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);

  std::vector<double> ratios(n), weights(n, 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    ratios[i] = used.by[i] / used.bx[i];
    if (weighted) weights[i] = (used.bx[i] / used.byse[i]) * (used.bx[i] / used.byse[i]);
  }
  const FixedWeights fixed(weights);
  return with_bootstrap(method, used, fixed, weighted_median(ratios, fixed), options);
}

MrResult fit_median_penalized(const Instruments& instruments, const MrOptions& options) {
  const MrMethod method = MrMethod::median_penalized;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 3)
    return detail::not_estimable(method, n,
                                 "too few instruments (" + std::to_string(n) + " with bx != 0; median-penalized needs 3)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);
  std::vector<double> ratios(n), weights(n);
  for (std::size_t i = 0; i < n; ++i) {
    ratios[i] = used.by[i] / used.bx[i];
    weights[i] = (used.bx[i] / used.byse[i]) * (used.bx[i] / used.byse[i]);
  }
  // mr_median(weighting = "penalized"): q_j from weight_j (ratio_j - weighted median)^2, factor 20.
  const double center = weighted_median(ratios, FixedWeights(weights));
  std::vector<double> penalized(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = ratios[i] - center;
    penalized[i] = weights[i] * std::min(1.0, 20 * chi_squared_upper_p(weights[i] * d * d, 1));
  }
  double total = 0;
  for (double w : penalized) total += w;
  if (!(total > 0))
    return detail::not_estimable(method, n, "the penalized weights are all zero (every instrument is an outlier)");
  const FixedWeights fixed(penalized);
  return with_bootstrap(method, used, fixed, weighted_median(ratios, fixed), options);
}

}  // namespace deepmr::stats
