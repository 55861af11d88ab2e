#include "deepmr/stats/conmix.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/heterogeneity.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The profile log-likelihood at theta, summed as the package sums it (c(inc[valid], exc[!valid])
// left to right: the valid instruments' terms first, then the invalid ones', each in instrument
// order). `valid` receives the choice.
double profile(double theta, const std::vector<double>& ratio, const std::vector<double>& ratio_se,
               const std::vector<double>& excluded, std::vector<char>& valid) {
  double sum = 0;
  for (std::size_t j = 0; j < ratio.size(); ++j) {
    const double d = theta - ratio[j], s2 = ratio_se[j] * ratio_se[j];
    const double inc = -d * d / 2 / s2 - std::log(std::sqrt(2 * kPi * s2));
    valid[j] = inc > excluded[j];
    if (valid[j]) sum += inc;
  }
  for (std::size_t j = 0; j < ratio.size(); ++j)
    if (!valid[j]) sum += excluded[j];
  return sum;
}

}  // namespace

MrResult fit_conmix(const Instruments& instruments, const MrOptions& options) {
  const MrMethod method = MrMethod::conmix;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 2)
    return detail::not_estimable(method, n, "too few instruments (" + std::to_string(n) + " with bx != 0; conmix needs 2)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);
  const double step = options.conmix_step;
  if (!(step > 0) || !std::isfinite(step)) throw InternalError("stats: MrOptions::conmix_step must be positive");

  std::vector<double> ratio(n), ratio_se(n);
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t j = 0; j < n; ++j) {
    ratio[j] = used.by[j] / used.bx[j];
    ratio_se[j] = used.byse[j] / std::fabs(used.bx[j]);
    lo = std::min(lo, ratio[j] - 2 * ratio_se[j]);
    hi = std::max(hi, ratio[j] + 2 * ratio_se[j]);
  }
  const double psi = options.conmix_psi > 0 ? options.conmix_psi : 1.5 * detail::sample_sd(ratio);
  if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(psi))
    return detail::not_estimable(method, n, "the ratio estimates' range is not finite in double precision");
  const double points = std::floor((hi - lo) / step + 1e-10) + 1;
  if (!(points <= static_cast<double>(options.conmix_max_grid)))
    return detail::not_estimable(method, n,
                                 "the grid from " + detail::six_digits(lo) + " to " + detail::six_digits(hi) + " in steps of " + detail::six_digits(step) +
                                     " would have " + detail::six_digits(points) + " points (more than " +
                                     std::to_string(options.conmix_max_grid) + "): rescale the effects");
  const auto grid = static_cast<std::size_t>(points);

  std::vector<double> excluded(n);
  for (std::size_t j = 0; j < n; ++j) {
    const double v = psi * psi + ratio_se[j] * ratio_se[j];
    excluded[j] = -ratio[j] * ratio[j] / 2 / v - std::log(std::sqrt(2 * kPi * v));
  }
  std::vector<double> loglik(grid);
  std::vector<char> valid(n);
  std::size_t best = 0;
  for (std::size_t k = 0; k < grid; ++k) {
    const double theta = std::min(lo + static_cast<double>(k) * step, hi);
    loglik[k] = profile(theta, ratio, ratio_se, excluded, valid);
    if (!std::isfinite(loglik[k]))
      return detail::not_estimable(method, n, "the profile likelihood is not finite in double precision");
    if (loglik[k] > loglik[best]) best = k;
  }
  profile(std::min(lo + static_cast<double>(best) * step, hi), ratio, ratio_se, excluded, valid);

  // phi: the residual SE of the valid instruments' IVW fit (R: weighted.mean with weights s^-2).
  std::size_t n_valid = 0;
  double sw = 0, swr = 0;
  for (std::size_t j = 0; j < n; ++j)
    if (valid[j]) {
      ++n_valid;
      const double w = 1 / (ratio_se[j] * ratio_se[j]);
      sw += w;
      swr += w * ratio[j];
    }
  double phi = 1;
  if (n_valid >= 2) {
    const double mean = swr / sw;
    double sum = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (valid[j]) sum += (ratio[j] - mean) * (ratio[j] - mean) / (ratio_se[j] * ratio_se[j]);
    phi = std::max(std::sqrt(sum / static_cast<double>(n_valid - 1)), 1.0);
  }

  const double z = normal_critical_value(options.level);  // chi2_{level,1} = z^2
  const double cut = 2 * loglik[best] - z * z * phi * phi;
  std::vector<Interval> intervals;
  bool open = false;
  for (std::size_t k = 0; k < grid; ++k) {
    const bool in = 2 * loglik[k] > cut;
    const double theta = lo + static_cast<double>(k) * step;
    if (in && !open) intervals.push_back({theta, theta});
    if (in) intervals.back().high = theta;
    open = in;
  }
  std::vector<char> valid0(n);
  const double loglik0 = profile(0.0, ratio, ratio_se, excluded, valid0);
  const double statistic = std::max(0.0, 2 * (loglik[best] - loglik0) * phi * phi);

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  result.estimate = lo + static_cast<double>(best) * step;
  result.ci_low = intervals.front().low;
  result.ci_high = intervals.back().high;
  result.pvalue = chi_squared_upper_p(statistic, 1);
  result.psi = psi;
  result.phi = phi;
  result.n_valid = static_cast<long>(n_valid);
  result.intervals = intervals;
  result.f_mean = mean_f_statistic(used);

  std::string warning;
  if (intervals.size() > 1) {
    warning = "the confidence set is a union of " + std::to_string(intervals.size()) + " ranges:";
    for (const Interval& range : intervals) warning += " [" + detail::six_digits(range.low) + ", " + detail::six_digits(range.high) + "]";
  }
  if (intervals.front().low <= lo || intervals.back().high >= lo + static_cast<double>(grid - 1) * step) {
    if (!warning.empty()) warning += "; ";
    warning += "the confidence set reaches the end of the grid [" + detail::six_digits(lo) + ", " + detail::six_digits(hi) + "]";
  }
  result.reason = warning;
  return result;
}

}  // namespace deepmr::stats
