#include "deepmr/stats/meta_analysis.hpp"

#include <algorithm>
#include <boost/math/tools/roots.hpp>
#include <cctype>
#include <cmath>
#include <limits>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/result_columns.hpp"
#include "double_range.hpp"

namespace deepmr::stats {
namespace {

constexpr double kThreshold = 1e-5;  // metafor's convergence threshold for Fisher scoring
constexpr int kMaxIterations = 100;  // metafor's maxiter

// Neumaier's compensated sum: a million-study meta-analysis stays accurate to the last digits.
class Sum {
 public:
  void add(double x) {
    const double t = sum_ + x;
    compensation_ += std::fabs(sum_) >= std::fabs(x) ? (sum_ - t) + x : (x - t) + sum_;
    sum_ = t;
  }
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0, compensation_ = 0;
};

// Everything an estimator needs at one tau^2, with w = 1 / (v + tau^2) and r = y - mu.
struct Weighted {
  double sum_w, sum_w2, sum_w3, mu, rss, rss_w;  // rss = sum w r^2 (= y'Py), rss_w = sum w^2 r^2 (= y'PPy)
  double trace_p() const { return sum_w - sum_w2 / sum_w; }
  double trace_pp() const { return sum_w2 - 2 * sum_w3 / sum_w + (sum_w2 / sum_w) * (sum_w2 / sum_w); }
};

Weighted weighted_at(const std::vector<double>& y, const std::vector<double>& v, double tau2) {
  Sum w1, w2, w3, wy;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double w = 1 / (v[i] + tau2);
    w1.add(w);
    w2.add(w * w);
    w3.add(w * w * w);
    wy.add(w * y[i]);
  }
  Weighted out{w1.value(), w2.value(), w3.value(), wy.value() / w1.value(), 0, 0};
  Sum rss, rss_w;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double w = 1 / (v[i] + tau2), r = y[i] - out.mu;
    rss.add(w * r * r);
    rss_w.add(w * w * r * r);
  }
  out.rss = rss.value();
  out.rss_w = rss_w.value();
  return out;
}

double hedges(const std::vector<double>& y, const std::vector<double>& v) {
  const double k = static_cast<double>(y.size());
  Sum sy, sv;
  for (std::size_t i = 0; i < y.size(); ++i) {
    sy.add(y[i]);
    sv.add(v[i]);
  }
  const double mean = sy.value() / k;
  Sum squares;
  for (double yi : y) squares.add((yi - mean) * (yi - mean));
  return (squares.value() - (k - 1) / k * sv.value()) / (k - 1);
}

// Restricted or full log-likelihood of the random-effects model at tau^2 (metafor's ll.REML, ll.ML).
double log_likelihood(const std::vector<double>& y, const std::vector<double>& v, double tau2, bool restricted) {
  const double k = static_cast<double>(y.size());
  const Weighted at = weighted_at(y, v, tau2);
  Sum log_variances;
  for (double vi : v) log_variances.add(std::log(vi + tau2));
  const double two_pi = 6.283185307179586476925286766559;
  if (restricted)
    return -0.5 * (k - 1) * std::log(two_pi) - 0.5 * log_variances.value() - 0.5 * std::log(at.sum_w) - 0.5 * at.rss;
  return -0.5 * k * std::log(two_pi) - 0.5 * log_variances.value() - 0.5 * at.rss;
}

struct Tau2Estimate {
  double tau2 = 0;
  int iterations = 0;
  bool converged = true;
};

Tau2Estimate fisher_scoring(const std::vector<double>& y, const std::vector<double>& v, Tau2Method method) {
  const double k = static_cast<double>(y.size());
  Tau2Estimate out;
  double tau2 = std::max(0.0, hedges(y, v));
  double change = kThreshold + 1;
  while (change > kThreshold) {
    ++out.iterations;
    const double old = tau2;
    const Weighted at = weighted_at(y, v, tau2);
    double step;
    if (method == Tau2Method::ml) step = (at.rss_w - at.sum_w) / at.sum_w2;
    else if (method == Tau2Method::reml) step = (at.rss_w - at.trace_p()) / at.trace_pp();
    else step = (at.rss * k / (k - 1) - k) / at.sum_w;  // EB
    while (tau2 + step < 0) step /= 2;
    tau2 += step;
    change = std::fabs(old - tau2);
    if (out.iterations > kMaxIterations) {
      out.converged = false;
      return out;
    }
  }
  // A local maximum away from 0 that is lower than the likelihood at 0 (metafor's ll0check).
  if (method != Tau2Method::eb && tau2 > kThreshold) {
    const bool restricted = method == Tau2Method::reml;
    const double tolerance = std::pow(std::numeric_limits<double>::epsilon(), 0.25);
    if (log_likelihood(y, v, 0, restricted) - log_likelihood(y, v, tau2, restricted) > tolerance) tau2 = 0;
  }
  out.tau2 = std::max(0.0, tau2);
  return out;
}

double paule_mandel(const std::vector<double>& y, const std::vector<double>& v) {
  const double target = static_cast<double>(y.size() - 1);
  auto excess = [&](double tau2) { return weighted_at(y, v, tau2).rss - target; };
  const double at_zero = excess(0);
  if (at_zero <= 0) return 0;
  double high = 1;
  while (excess(high) > 0) high *= 2;  // Q(tau^2) falls to 0 as tau^2 grows: this ends
  std::uintmax_t iterations = 200;
  const auto bracket = boost::math::tools::toms748_solve(
      excess, 0.0, high, at_zero, excess(high),
      boost::math::tools::eps_tolerance<double>(std::numeric_limits<double>::digits - 2), iterations);
  return (bracket.first + bracket.second) / 2;
}

MetaResult fail(MetaResult result, std::string reason) {
  result.estimable = false;
  result.reason = std::move(reason);
  return result;
}

}  // namespace

Tau2Method parse_tau2_method(const std::string& text, const std::string& option) {
  std::string upper = text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (Tau2Method m : {Tau2Method::dl, Tau2Method::reml, Tau2Method::ml, Tau2Method::pm, Tau2Method::he,
                       Tau2Method::sj, Tau2Method::eb, Tau2Method::fe})
    if (tau2_method_name(m) == upper) return m;
  throw UsageError("option '" + option + "': unknown tau^2 estimator '" + text +
                   "' (use DL, REML, ML, PM, HE, SJ, EB or FE)");
}

std::string tau2_method_name(Tau2Method method) {
  switch (method) {
    case Tau2Method::dl: return "DL";
    case Tau2Method::reml: return "REML";
    case Tau2Method::ml: return "ML";
    case Tau2Method::pm: return "PM";
    case Tau2Method::he: return "HE";
    case Tau2Method::sj: return "SJ";
    case Tau2Method::eb: return "EB";
    case Tau2Method::fe: return "FE";
  }
  throw InternalError("stats: unknown tau^2 method");
}

std::string MetaResult::status() const { return estimable ? "ok" : "not estimable: " + reason; }

MetaResult meta_analysis(const std::vector<double>& estimates, const std::vector<double>& standard_errors,
                         const MetaOptions& options) {
  if (standard_errors.size() != estimates.size())
    throw InternalError("stats: meta_analysis needs one standard error per estimate");
  std::vector<double> variances(standard_errors.size());
  for (std::size_t i = 0; i < variances.size(); ++i) variances[i] = standard_errors[i] * standard_errors[i];
  return meta_analysis_variances(estimates, variances, options);
}

namespace {

MetaResult meta_analysis_in_range(const std::vector<double>& y, const std::vector<double>& v,
                                  const MetaOptions& options);

}  // namespace

// The checks of the inputs, then the fit; an estimable result never holds a non-finite number.
MetaResult meta_analysis_variances(const std::vector<double>& y, const std::vector<double>& v,
                                   const MetaOptions& options) {
  MetaResult result = meta_analysis_in_range(y, v, options);
  if (result.estimable)
    if (auto column = detail::non_finite_column(meta_columns(), result))
      return fail(result, "the meta-analysis's " + *column + " is not finite in double precision (extreme estimates or SEs)");
  return result;
}

namespace {

MetaResult meta_analysis_in_range(const std::vector<double>& y, const std::vector<double>& v,
                                  const MetaOptions& options) {
  if (v.size() != y.size()) throw InternalError("stats: meta_analysis needs one variance per estimate");
  if (!(options.level > 0 && options.level < 1)) throw InternalError("stats: MetaOptions::level must lie in (0, 1)");
  MetaResult result;
  result.tau2_method = options.tau2_method;
  result.knha = options.knha;
  result.k = y.size();
  if (y.empty()) return fail(result, "no estimates");
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) return fail(result, "estimate " + std::to_string(i) + " is not finite");
    if (!(v[i] > 0) || !std::isfinite(v[i]))
      return fail(result, "estimate " + std::to_string(i) + " has a variance that is not positive and finite");
  }
  if (auto reason = detail::meta_out_of_range(y, v)) return fail(result, *reason);
  const std::size_t k = y.size();
  const double df = static_cast<double>(k) - 1;

  if (k == 1) {
    result.estimable = true;
    result.estimate = y[0];
    result.se = std::sqrt(v[0]);
    result.q_df = 0;
    if (!options.knha) {
      const WaldSummary wald = wald_summary(y[0], *result.se, Distribution::normal, 0, options.level);
      result.ci_low = wald.ci_low;
      result.ci_high = wald.ci_high;
      result.pvalue = wald.pvalue;
    }
    return result;
  }

  double tau2 = 0;
  switch (options.tau2_method) {
    case Tau2Method::fe: break;
    case Tau2Method::dl: {
      const Weighted fixed = weighted_at(y, v, 0);
      tau2 = std::max(0.0, (fixed.rss - df) / fixed.trace_p());
      break;
    }
    case Tau2Method::he: tau2 = std::max(0.0, hedges(y, v)); break;
    case Tau2Method::sj: {
      Sum sy;
      for (double yi : y) sy.add(yi);
      const double mean = sy.value() / static_cast<double>(k);
      Sum squares;
      for (double yi : y) squares.add((yi - mean) * (yi - mean));
      const double initial = squares.value() / static_cast<double>(k);
      tau2 = initial * weighted_at(y, v, initial).rss / df;
      break;
    }
    case Tau2Method::pm: tau2 = paule_mandel(y, v); break;
    case Tau2Method::ml:
    case Tau2Method::reml:
    case Tau2Method::eb: {
      const Tau2Estimate estimate = fisher_scoring(y, v, options.tau2_method);
      result.iterations = estimate.iterations;
      if (!estimate.converged)
        return fail(result, "Fisher scoring for tau^2 did not converge in " + std::to_string(kMaxIterations) +
                                " steps (try --tau2 DL or PM)");
      tau2 = estimate.tau2;
      break;
    }
  }

  const Weighted at = weighted_at(y, v, tau2);
  double variance = 1 / at.sum_w;
  if (options.knha) variance *= at.rss / df;
  const double se = std::sqrt(variance);
  const Distribution distribution = options.knha ? Distribution::t : Distribution::normal;
  const WaldSummary wald = wald_summary(at.mu, se, distribution, df, options.level);
  result.estimable = true;
  result.estimate = at.mu;
  result.se = se;
  result.ci_low = wald.ci_low;
  result.ci_high = wald.ci_high;
  result.pvalue = wald.pvalue;
  if (options.knha) result.df = static_cast<long>(k) - 1;
  result.tau2 = tau2;
  result.tau = std::sqrt(tau2);

  const Weighted fixed = weighted_at(y, v, 0);
  result.q = fixed.rss;
  result.q_df = static_cast<long>(k) - 1;
  result.q_pvalue = chi_squared_upper_p(fixed.rss, df);
  if (options.tau2_method == Tau2Method::fe) {
    result.i2 = fixed.rss > 0 ? std::max(0.0, 100 * (fixed.rss - df) / fixed.rss) : 0.0;
    result.h2 = fixed.rss / df;
  } else {
    const double typical_variance = df / fixed.trace_p();
    result.i2 = 100 * tau2 / (typical_variance + tau2);
    result.h2 = tau2 / typical_variance + 1;
  }

  const double critical =
      options.knha ? t_critical_value(options.level, df) : normal_critical_value(options.level);
  const double spread = std::sqrt(variance + tau2);
  result.pi_low = at.mu - critical * spread;
  result.pi_high = at.mu + critical * spread;
  return result;
}

}  // namespace

}  // namespace deepmr::stats
