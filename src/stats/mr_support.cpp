#include "mr_support.hpp"

#include <sstream>

#include <algorithm>
#include <cmath>

namespace deepmr::stats::detail {

std::string six_digits(double value) {
  std::ostringstream out;
  out.precision(6);
  out << value;
  return out.str();
}

MrResult not_estimable(MrMethod method, std::size_t n_used, std::string reason) {
  MrResult result;
  result.method = method;
  result.estimable = false;
  result.reason = std::move(reason);
  result.n_used = n_used;
  return result;
}

Instruments with_nonzero_bx(const Instruments& instruments) {
  Instruments kept;
  kept.reserve(instruments.size());
  for (std::size_t i = 0; i < instruments.size(); ++i)
    if (instruments.bx[i] != 0)
      kept.push_back_from(instruments, i);
  return kept;
}

std::optional<std::string> zero_byse_reason(const Instruments& instruments) {
  std::size_t zeros = 0;
  for (double se : instruments.byse) zeros += se == 0;
  if (zeros == 0) return std::nullopt;
  return std::to_string(zeros) + " of " + std::to_string(instruments.size()) +
         " instruments have byse = 0 (weights 1 / byse^2 need byse > 0)";
}

double sample_sd(const std::vector<double>& values) {
  const double n = static_cast<double>(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (n - 1));
}

double median_of(std::vector<double> values) {
  const std::size_t n = values.size(), half = n / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(half), values.end());
  const double upper = values[half];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(half));
  return (lower + upper) / 2;
}

double median_absolute_deviation(const std::vector<double>& values) {
  const double center = median_of(values);
  std::vector<double> deviations(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) deviations[i] = std::fabs(values[i] - center);
  return 1.4826 * median_of(std::move(deviations));
}

void set_wald(MrResult& result, double estimate, double se, const MrOptions& options, long t_df) {
  const bool t = options.distribution == Distribution::t;
  const WaldSummary wald = wald_summary(estimate, se, options.distribution, static_cast<double>(t_df), options.level);
  result.estimate = estimate;
  result.se = se;
  result.ci_low = wald.ci_low;
  result.ci_high = wald.ci_high;
  result.pvalue = wald.pvalue;
  if (t) result.df = t_df;
}

EggerInference egger_inference(double estimate, double se, double rse, long df, const MrOptions& options) {
  if (options.distribution == Distribution::normal || rse >= 1) {
    const WaldSummary wald = wald_summary(estimate, se, options.distribution, static_cast<double>(df), options.level);
    return {wald.ci_low, wald.ci_high, wald.pvalue};
  }
  // Under-dispersion with t: do not penalise it twice, and be no more precise than fixed effect.
  const double z = normal_critical_value(options.level);
  const double t = t_critical_value(options.level, static_cast<double>(df));
  const double t_statistic = rse > 0 ? std::fabs(estimate) / (se * rse) : (estimate == 0 ? 0.0 : INFINITY);
  return {std::min(estimate - z * se, estimate - t * se * rse), std::max(estimate + z * se, estimate + t * se * rse),
          std::max(normal_two_sided_p(estimate / se), t_two_sided_p(t_statistic, static_cast<double>(df)))};
}

std::optional<std::string> non_finite_extra(const MrResult& result) {
  const auto bad = [](const std::optional<double>& v) { return v && !std::isfinite(*v); };
  if (bad(result.condition)) return "condition";
  if (bad(result.tau2)) return "tau2";
  if (bad(result.psi)) return "psi";
  if (bad(result.phi)) return "phi";
  for (const Interval& range : result.intervals)
    if (!std::isfinite(range.low) || !std::isfinite(range.high)) return "interval";
  return std::nullopt;
}

}  // namespace deepmr::stats::detail
