#include "deepmr/stats/median.hpp"

#include <cmath>

#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/normal_stream.hpp"
#include "deepmr/stats/weighted_median.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {

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
  const double estimate = weighted_median(ratios, fixed);

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  result.estimate = estimate;
  const std::size_t draws = options.bootstrap_draws;
  if (draws >= 2) {
    // MendelianRandomization's order per draw: n normals for bx, then n for by.
    NormalStream normals(options.seed, bootstrap_stream(method));
    WeightedMedianSelector select(fixed);
    std::vector<double> zx(n), zy(n), boot(n), estimates(draws);
    for (std::size_t d = 0; d < draws; ++d) {
      normals.fill(zx.data(), n);
      normals.fill(zy.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        boot[i] = (used.by[i] + used.byse[i] * zy[i]) / (used.bx[i] + used.bxse[i] * zx[i]);
      estimates[d] = select(boot);
    }
    const double se = detail::sample_sd(estimates);
    if (!std::isfinite(se))
      return detail::not_estimable(method, n, "the bootstrap gave an undefined estimate (a resampled bx of 0)");
    detail::set_wald(result, estimate, se, options, static_cast<long>(n) - 1);
    result.bootstrap_draws = draws;
  }
  result.f_mean = mean_f_statistic(used);
  return result;
}

}  // namespace deepmr::stats
