#pragma once
// The reference distributions behind intervals and p-values (normal, Student t, chi-squared), all
// from Boost.Math. MR methods choose between normal and t with `Distribution`; the meta-analysis
// uses t only under Knapp-Hartung.

#include <optional>
#include <string>

namespace deepmr::stats {

enum class Distribution { normal, t };

// "normal" or "t"; throws UsageError naming `option` otherwise.
Distribution parse_distribution(const std::string& text, const std::string& option = "distribution");
std::string distribution_name(Distribution distribution);

// Two-sided critical value for a `level` (e.g. 0.95) interval: the normal quantile, or the t
// quantile with `df` degrees of freedom (df > 0).
double normal_critical_value(double level);
double t_critical_value(double level, double df);

// Two-sided p-value of a z or t statistic, from the upper tail (accurate far out in the tail).
double normal_two_sided_p(double statistic);
double t_two_sided_p(double statistic, double df);

// Upper tail probability of a chi-squared statistic with `df` > 0 degrees of freedom.
double chi_squared_upper_p(double statistic, double df);

// A Wald interval and p-value for `estimate` with standard error `se`, normal or t with `df`.
struct WaldSummary {
  double ci_low = 0, ci_high = 0, pvalue = 1;
};
WaldSummary wald_summary(double estimate, double se, Distribution distribution, double df, double level);

}  // namespace deepmr::stats
