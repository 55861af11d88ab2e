#include "deepmr/stats/meta_diagnostics.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/tools/roots.hpp>
#include <cmath>
#include <limits>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/distributions.hpp"

namespace deepmr::stats {
namespace {

// Generalized Q of the intercept-only model at tau^2 (metafor's .QE.func).
double q_at(const std::vector<double>& y, const std::vector<double>& v, double tau2) {
  double sw = 0, swy = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    sw += 1 / (v[i] + tau2);
    swy += y[i] / (v[i] + tau2);
  }
  const double mu = swy / sw;
  double q = 0;
  for (std::size_t i = 0; i < y.size(); ++i) q += (y[i] - mu) * (y[i] - mu) / (v[i] + tau2);
  return q;
}

// The root of f on [low, high] where f changes sign, to full precision.
template <typename F>
double root(F f, double low, double high) {
  std::uintmax_t iterations = 200;
  const auto bracket = boost::math::tools::toms748_solve(
      f, low, high, boost::math::tools::eps_tolerance<double>(std::numeric_limits<double>::digits - 2), iterations);
  return (bracket.first + bracket.second) / 2;
}

double typical_variance(const std::vector<double>& v) {
  double sw = 0, sw2 = 0;
  for (double vi : v) {
    sw += 1 / vi;
    sw2 += 1 / (vi * vi);
  }
  return static_cast<double>(v.size() - 1) / (sw - sw2 / sw);
}

bool finite(const std::optional<double>& x) { return !x || std::isfinite(*x); }

// Everything the moderator form of an estimator needs at one tau^2 (X is k x p, W = diag(w)):
// beta = (X'WX)^-1 X'Wy, r = y - X beta, P y = W r, so y'Py = sum w r^2 and y'PPy = sum w^2 r^2;
// tr P = sum w - tr(A X'W^2X), tr PP = sum w^2 - 2 tr(A X'W^3X) + tr((A X'W^2X)^2), A = (X'WX)^-1.
// O(k p^2): no k x k matrix.
struct RegressionAt {
  Eigen::VectorXd beta;
  Eigen::MatrixXd a;  // (X'WX)^-1
  double sum_w = 0, sum_w2 = 0, rss = 0, rss_w = 0, trace_p = 0, trace_pp = 0, log_det_xwx = 0;
};

RegressionAt regression_at(const Eigen::VectorXd& y, const Eigen::VectorXd& v, const Eigen::MatrixXd& x,
                           double tau2) {
  const Eigen::ArrayXd w = 1 / (v.array() + tau2);
  RegressionAt out;
  const Eigen::MatrixXd xwx = x.transpose() * w.matrix().asDiagonal() * x;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(xwx);
  out.a = ldlt.solve(Eigen::MatrixXd::Identity(x.cols(), x.cols()));
  out.log_det_xwx = ldlt.vectorD().array().log().sum();
  out.beta = out.a * (x.transpose() * (w * y.array()).matrix());
  const Eigen::ArrayXd r = y - x * out.beta;
  out.sum_w = w.sum();
  out.sum_w2 = (w * w).sum();
  out.rss = (w * r * r).sum();
  out.rss_w = (w * w * r * r).sum();
  const Eigen::MatrixXd b2 = out.a * (x.transpose() * (w * w).matrix().asDiagonal() * x);
  const Eigen::MatrixXd b3 = out.a * (x.transpose() * (w * w * w).matrix().asDiagonal() * x);
  out.trace_p = out.sum_w - b2.trace();
  out.trace_pp = out.sum_w2 - 2 * b3.trace() + (b2 * b2).trace();
  return out;
}

// metafor's rma.uni tau^2 estimators with moderators (the same rules as meta_analysis.cpp's
// intercept-only ones, which stay separate so that the store's numbers do not move).
std::optional<double> regression_tau2(const Eigen::VectorXd& y, const Eigen::VectorXd& v, const Eigen::MatrixXd& x,
                                      Tau2Method method, std::string& reason) {
  const double k = static_cast<double>(y.size()), p = static_cast<double>(x.cols());
  auto hedges = [&] {
    const Eigen::MatrixXd xx_inv = (x.transpose() * x).ldlt().solve(Eigen::MatrixXd::Identity(x.cols(), x.cols()));
    const Eigen::VectorXd r = y - x * (xx_inv * (x.transpose() * y));
    const double trace_pv = v.sum() - (xx_inv * (x.transpose() * v.asDiagonal() * x)).trace();
    return (r.squaredNorm() - trace_pv) / (k - p);
  };
  switch (method) {
    case Tau2Method::fe: return 0.0;
    case Tau2Method::dl: {
      const RegressionAt at = regression_at(y, v, x, 0);
      return std::max(0.0, (at.rss - (k - p)) / at.trace_p);
    }
    case Tau2Method::he: return std::max(0.0, hedges());
    case Tau2Method::sj: {
      const double initial = (y.array() - y.mean()).square().sum() / k;
      return std::max(0.0, initial * regression_at(y, v, x, initial).rss / (k - p));
    }
    case Tau2Method::pm: {
      auto excess = [&](double t) { return regression_at(y, v, x, t).rss - (k - p); };
      if (excess(0) <= 0) return 0.0;
      double high = 1;
      while (excess(high) > 0) high *= 2;
      return root(excess, 0.0, high);
    }
    case Tau2Method::ml:
    case Tau2Method::reml:
    case Tau2Method::eb: {
      double tau2 = std::max(0.0, hedges()), change = 1;
      int iterations = 0;
      while (change > 1e-5) {  // metafor's threshold and maxiter
        if (++iterations > 100) {
          reason = "Fisher scoring for tau^2 did not converge in 100 steps";
          return std::nullopt;
        }
        const RegressionAt at = regression_at(y, v, x, tau2);
        double step = method == Tau2Method::ml     ? (at.rss_w - at.sum_w) / at.sum_w2
                      : method == Tau2Method::reml ? (at.rss_w - at.trace_p) / at.trace_pp
                                                   : (at.rss * k / (k - p) - k) / at.sum_w;
        while (tau2 + step < 0) step /= 2;
        change = std::fabs(step);
        tau2 += step;
      }
      if (method != Tau2Method::eb && tau2 > 1e-5) {  // metafor's ll0check
        auto ll = [&](double t) {
          const RegressionAt at = regression_at(y, v, x, t);
          const double log_v = (v.array() + t).log().sum();
          const double two_pi = 6.283185307179586476925286766559;
          return method == Tau2Method::reml
                     ? -0.5 * (k - p) * std::log(two_pi) - 0.5 * log_v - 0.5 * at.log_det_xwx - 0.5 * at.rss
                     : -0.5 * k * std::log(two_pi) - 0.5 * log_v - 0.5 * at.rss;
        };
        if (ll(0) - ll(tau2) > std::pow(std::numeric_limits<double>::epsilon(), 0.25)) tau2 = 0;
      }
      return std::max(0.0, tau2);
    }
  }
  throw InternalError("stats: unknown tau^2 method");
}

std::string check_input(const std::vector<double>& y, const std::vector<double>& v) {
  if (v.size() != y.size()) throw InternalError("stats: meta diagnostics need one variance per estimate");
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) return "estimate " + std::to_string(i) + " is not finite";
    if (!(v[i] > 0) || !std::isfinite(v[i]))
      return "estimate " + std::to_string(i) + " has a variance that is not positive and finite";
  }
  return "";
}

}  // namespace

Tau2Interval tau2_q_profile(const std::vector<double>& y, const std::vector<double>& v, const MetaOptions& options) {
  Tau2Interval out;
  out.reason = check_input(y, v);
  if (!out.reason.empty()) return out;
  if (y.size() < 2) return out.reason = "the interval for tau^2 needs at least 2 estimates", out;
  if (options.tau2_method == Tau2Method::fe) return out.reason = "a fixed-effect model has no tau^2", out;
  const MetaResult fit = meta_analysis_variances(y, v, options);
  if (!fit.estimable || !fit.tau2) return out.reason = fit.reason, out;
  const double df = static_cast<double>(y.size() - 1), alpha = 1 - options.level;
  const boost::math::chi_squared_distribution<double> chi2(df);
  const double crit_upper = boost::math::quantile(boost::math::complement(chi2, alpha / 2));
  const double crit_lower = boost::math::quantile(chi2, alpha / 2);
  out.tau2_max = std::max(100.0, 10 * *fit.tau2);
  const double q_min = q_at(y, v, 0), q_max = q_at(y, v, out.tau2_max);
  auto solve = [&](double target) { return root([&](double t) { return q_at(y, v, t) - target; }, 0.0, out.tau2_max); };
  // Upper bound: where Q falls to the lower critical value.
  if (q_min < crit_lower) {
    out.null_set = true;
    out.tau2_low = out.tau2_high = 0.0;
  } else if (q_max > crit_lower) {
    out.note = "the upper bound for tau^2 is beyond " + std::to_string(out.tau2_max) + " (metafor: > tau2.max)";
  } else {
    out.tau2_high = solve(crit_lower);
  }
  // Lower bound: where Q falls to the upper critical value.
  if (q_max > crit_upper) {
    out.tau2_low.reset();
    out.note = "both bounds for tau^2 are beyond " + std::to_string(out.tau2_max) + " (metafor: > tau2.max)";
  } else if (q_min < crit_upper) {
    out.tau2_low = 0.0;
  } else {
    out.tau2_low = solve(crit_upper);
  }
  const double vt = typical_variance(v);
  auto derive = [&](const std::optional<double>& t, std::optional<double>& tau, std::optional<double>& i2,
                    std::optional<double>& h2) {
    if (!t) return;
    tau = std::sqrt(*t);
    i2 = 100 * *t / (vt + *t);
    h2 = *t / vt + 1;
  };
  derive(out.tau2_low, out.tau_low, out.i2_low, out.h2_low);
  derive(out.tau2_high, out.tau_high, out.i2_high, out.h2_high);
  for (const auto* x : {&out.tau2_low, &out.tau2_high, &out.i2_low, &out.i2_high, &out.h2_low, &out.h2_high})
    if (!finite(*x)) return Tau2Interval{false, "the tau^2 interval is not finite in double precision"};
  out.estimable = true;
  return out;
}

std::vector<MetaResult> leave_one_out(const std::vector<double>& y, const std::vector<double>& v,
                                      const MetaOptions& options) {
  if (v.size() != y.size()) throw InternalError("stats: leave_one_out needs one variance per estimate");
  std::vector<MetaResult> out;
  for (std::size_t i = 0; i < y.size(); ++i) {
    std::vector<double> yi, vi;
    for (std::size_t j = 0; j < y.size(); ++j)
      if (j != i) {
        yi.push_back(y[j]);
        vi.push_back(v[j]);
      }
    out.push_back(meta_analysis_variances(yi, vi, options));
  }
  return out;
}

Influence influence(const std::vector<double>& y, const std::vector<double>& v, const MetaOptions& options) {
  Influence out;
  out.reason = check_input(y, v);
  if (!out.reason.empty()) return out;
  const std::size_t k = y.size();
  if (k < 2) return out.reason = "influence needs at least 2 estimates", out;
  const MetaResult fit = meta_analysis_variances(y, v, options);
  if (!fit.estimable) return out.reason = fit.reason, out;
  const double tau2 = fit.tau2.value_or(0), mu = *fit.estimate, vb = *fit.se * *fit.se;
  double sum_w = 0;
  for (double vi : v) sum_w += 1 / (vi + tau2);
  const std::vector<MetaResult> deleted = leave_one_out(y, v, options);
  const boost::math::chi_squared_distribution<double> chi2_1(1);
  out.estimable = true;
  for (std::size_t i = 0; i < k; ++i) {
    StudyInfluence s;
    s.hat = 1 / (v[i] + tau2) / sum_w;
    s.weight = 100 * *s.hat;
    const MetaResult& d = deleted[i];
    if (!d.estimable) {
      s.reason = "the fit without study " + std::to_string(i) + ": " + d.reason;
      out.studies.push_back(s);
      continue;
    }
    // One study left: metafor's k = 1 fit has tau^2 = 0 and QE = 0.
    const double tau2_del = k == 2 ? 0.0 : d.tau2.value_or(0);
    const double qe_del = k == 2 ? 0.0 : d.q.value_or(0);
    const double mu_del = *d.estimate, vb_del = *d.se * *d.se;
    double s2w = 1;
    if (options.knha) {
      if (k == 2) {
        s.reason = "Knapp-Hartung without a study leaves no degrees of freedom (k = 2)";
        out.studies.push_back(s);
        continue;
      }
      double q = 0;
      for (std::size_t j = 0; j < k; ++j)
        if (j != i) q += (y[j] - mu_del) * (y[j] - mu_del) / (v[j] + tau2_del);
      s2w = q / static_cast<double>(k - 2);
    }
    double resid = y[i] - mu_del;
    if (std::fabs(resid) < 100 * std::numeric_limits<double>::epsilon()) resid = 0;  // as metafor
    s.rstudent = resid / std::sqrt(v[i] * s2w + vb_del + tau2_del * s2w);
    s.dffits = (mu - mu_del) / std::sqrt(s2w * *s.hat * (tau2_del + v[i]));
    double sum_w_del = 0;
    for (double vj : v) sum_w_del += 1 / (vj + tau2_del);
    s.dfbetas = (mu - mu_del) / std::sqrt(s2w / sum_w_del);
    s.cook_d = (mu - mu_del) * (mu - mu_del) / vb;
    s.cov_r = vb_del / vb;
    s.tau2_del = tau2_del;
    s.qe_del = qe_del;
    const double p = 1, kk = static_cast<double>(k);
    s.influential = std::fabs(*s.dffits) > 3 * std::sqrt(p / (kk - p)) || boost::math::cdf(chi2_1, *s.cook_d) > 0.5 ||
                    *s.hat > 3 * p / kk || std::fabs(*s.dfbetas) > 1;
    for (const auto* x : {&s.rstudent, &s.dffits, &s.dfbetas, &s.cook_d, &s.cov_r})
      if (!finite(*x)) {
        s = StudyInfluence{};
        s.reason = "the deletion diagnostics of study " + std::to_string(i) + " are not finite in double precision";
        break;
      }
    out.studies.push_back(s);
  }
  return out;
}

EggerTest egger_regression_test(const std::vector<double>& y, const std::vector<double>& v,
                                const MetaOptions& options) {
  EggerTest out;
  out.reason = check_input(y, v);
  if (!out.reason.empty()) return out;
  const std::size_t k = y.size();
  if (k < 3) return out.reason = "Egger's test needs at least 3 estimates", out;
  Eigen::VectorXd ey(k), ev(k);
  Eigen::MatrixXd x(k, 2);
  for (std::size_t i = 0; i < k; ++i) {
    ey(i) = y[i];
    ev(i) = v[i];
    x(i, 0) = 1;
    x(i, 1) = std::sqrt(v[i]);
  }
  if (x.col(1).maxCoeff() - x.col(1).minCoeff() <= 1e-12 * x.col(1).maxCoeff())
    return out.reason = "Egger's test needs standard errors that differ", out;
  const auto tau2 = regression_tau2(ey, ev, x, options.tau2_method, out.reason);
  if (!tau2) return out;
  const RegressionAt at = regression_at(ey, ev, x, *tau2);
  const double df = static_cast<double>(k) - 2;
  Eigen::MatrixXd vb = at.a;
  if (options.knha) vb *= at.rss / df;  // metafor's s2w (0 when the fit is exact)
  const double se_slope = std::sqrt(vb(1, 1)), se_limit = std::sqrt(vb(0, 0));
  if (!(se_slope > 0) || !(se_limit > 0)) return out.reason = "Egger's regression fits the estimates exactly", out;
  out.tau2 = *tau2;
  out.statistic = at.beta(1) / se_slope;
  out.pvalue = options.knha ? t_two_sided_p(*out.statistic, df) : normal_two_sided_p(*out.statistic);
  const double crit = options.knha ? t_critical_value(options.level, df) : normal_critical_value(options.level);
  out.limit = at.beta(0);
  out.limit_ci_low = at.beta(0) - crit * se_limit;
  out.limit_ci_high = at.beta(0) + crit * se_limit;
  if (options.knha) out.df = static_cast<long>(k) - 2;
  for (const auto* val : {&out.statistic, &out.pvalue, &out.limit, &out.limit_ci_low, &out.limit_ci_high})
    if (!finite(*val)) return EggerTest{false, "Egger's test is not finite in double precision"};
  out.estimable = true;
  return out;
}

}  // namespace deepmr::stats
