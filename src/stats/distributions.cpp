#include "deepmr/stats/distributions.hpp"

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {

Distribution parse_distribution(const std::string& text, const std::string& option) {
  if (text == "normal") return Distribution::normal;
  if (text == "t") return Distribution::t;
  throw UsageError("option '" + option + "': unknown distribution '" + text + "' (use normal or t)");
}

std::string distribution_name(Distribution distribution) {
  return distribution == Distribution::normal ? "normal" : "t";
}

double normal_critical_value(double level) {
  return boost::math::quantile(boost::math::complement(boost::math::normal_distribution<double>(), (1 - level) / 2));
}

double t_critical_value(double level, double df) {
  return boost::math::quantile(
      boost::math::complement(boost::math::students_t_distribution<double>(df), (1 - level) / 2));
}

double normal_two_sided_p(double statistic) {
  if (std::isinf(statistic)) return 0;
  return 2 * boost::math::cdf(boost::math::complement(boost::math::normal_distribution<double>(), std::fabs(statistic)));
}

double t_two_sided_p(double statistic, double df) {
  if (std::isinf(statistic)) return 0;
  return 2 * boost::math::cdf(
                 boost::math::complement(boost::math::students_t_distribution<double>(df), std::fabs(statistic)));
}

double chi_squared_upper_p(double statistic, double df) {
  if (std::isinf(statistic)) return 0;
  return boost::math::cdf(boost::math::complement(boost::math::chi_squared_distribution<double>(df), statistic));
}

WaldSummary wald_summary(double estimate, double se, Distribution distribution, double df, double level) {
  const bool normal = distribution == Distribution::normal;
  const double critical = normal ? normal_critical_value(level) : t_critical_value(level, df);
  WaldSummary summary;
  summary.ci_low = estimate - critical * se;
  summary.ci_high = estimate + critical * se;
  // se == 0 with a non-zero estimate is an infinitely precise estimate: p = 0, not NaN.
  const double statistic = se > 0 ? estimate / se : (estimate == 0 ? 0.0 : INFINITY);
  summary.pvalue = normal ? normal_two_sided_p(statistic) : t_two_sided_p(statistic, df);
  return summary;
}

}  // namespace deepmr::stats
