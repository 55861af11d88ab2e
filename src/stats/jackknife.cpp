#include "deepmr/stats/jackknife.hpp"

#include <cmath>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/distributions.hpp"

namespace deepmr::stats {

std::optional<double> grouped_jackknife_se(double full, const std::vector<double>& leave_out,
                                           const std::vector<double>& group_sizes) {
  const std::size_t groups = leave_out.size();
  if (groups < 2 || group_sizes.size() != groups || !std::isfinite(full)) return std::nullopt;
  double total = 0;
  for (double m : group_sizes) total += m;
  double centre = static_cast<double>(groups) * full;  // theta_J
  for (std::size_t g = 0; g < groups; ++g) {
    if (!std::isfinite(leave_out[g]) || !(group_sizes[g] > 0) || !(group_sizes[g] < total)) return std::nullopt;
    centre -= (1 - group_sizes[g] / total) * leave_out[g];
  }
  double sum = 0;
  for (std::size_t g = 0; g < groups; ++g) {
    const double h = total / group_sizes[g];
    const double pseudo = h * full - (h - 1) * leave_out[g];
    sum += (pseudo - centre) * (pseudo - centre) / (h - 1);
  }
  const double se = std::sqrt(sum / static_cast<double>(groups));
  return std::isfinite(se) ? std::optional<double>(se) : std::nullopt;
}

std::vector<double> jackknife_group_sizes(int samples, int groups) {
  if (samples < 1 || groups < 1 || groups > samples)
    throw InternalError("jackknife groups: " + std::to_string(groups) + " groups of " + std::to_string(samples) + " samples");
  std::vector<double> sizes(static_cast<std::size_t>(groups), 0.0);
  for (long n = 0; n < samples; ++n) sizes[static_cast<std::size_t>(n * groups / samples)] += 1;
  return sizes;
}

void add_jackknife(MrResult& fit, const std::vector<MrResult>& leave_out, const std::vector<double>& group_sizes,
                   const MrOptions& options) {
  if (!fit.estimable || !fit.estimate) return;
  std::vector<double> estimates;
  for (const auto& r : leave_out) {
    if (!r.estimable || !r.estimate) return;
    estimates.push_back(*r.estimate);
  }
  const auto jackknife = grouped_jackknife_se(*fit.estimate, estimates, group_sizes);
  if (!jackknife) return;
  // On the standard SE's scale: sqrt(N) times the estimator's Monte Carlo SE (jackknife.hpp).
  double samples = 0;
  for (double m : group_sizes) samples += m;
  const std::optional<double> se = std::sqrt(samples) * *jackknife;
  const bool t = options.distribution == Distribution::t && fit.df;
  const WaldSummary wald = wald_summary(*fit.estimate, *se, t ? Distribution::t : Distribution::normal,
                                        t ? static_cast<double>(*fit.df) : 0.0, options.level);
  fit.se_jackknife = *se;
  fit.ci_low_jackknife = wald.ci_low;
  fit.ci_high_jackknife = wald.ci_high;
  fit.pvalue_jackknife = wald.pvalue;
}

}  // namespace deepmr::stats
