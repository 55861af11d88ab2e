#include "deepmr/stats/robust.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/least_squares.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {
namespace {

// lmrob.control()'s defaults for psi = "bisquare".
constexpr double kChiC = 1.54764;    // tuning.chi: the S-estimate's rho, 50% breakdown
constexpr double kB = 0.5;           // bb
constexpr double kPsiC = 4.685061;   // tuning.psi: the MM-estimate's psi, 95% efficiency
constexpr double kTolerance = 1e-13;
constexpr int kMaxSteps = 5000;
constexpr std::size_t kAllSubsets = 3000, kDrawnSubsets = 500, kRefined = 10;

// Tukey's bisquare: rho normalised to 1 at |u| >= c, its derivative, psi and psi'.
double chi(double u, double c) {
  const double v = u / c;
  if (std::fabs(v) >= 1) return 1;
  const double t = 1 - v * v;
  return 1 - t * t * t;
}
double chi_derivative(double u, double c) {
  const double v = u / c;
  if (std::fabs(v) >= 1) return 0;
  const double t = 1 - v * v;
  return 6 * u / (c * c) * t * t;
}
double psi(double u, double c) {
  const double v = u / c;
  if (std::fabs(v) >= 1) return 0;
  const double t = 1 - v * v;
  return u * t * t;
}
double psi_derivative(double u, double c) {
  const double v = u / c;
  if (std::fabs(v) >= 1) return 0;
  const double v2 = v * v;
  return (1 - v2) * (1 - 5 * v2);
}
// psi(u) / u, the IRWLS weight (the same function for the S and the MM steps, at their c).
double irwls_weight(double u, double c) {
  const double v = u / c;
  if (std::fabs(v) >= 1) return 0;
  const double t = 1 - v * v;
  return t * t;
}

// The M-scale: s with sum chi(r_i / s) / (n - p) = b, by lmrob's fixed point from `start`.
std::optional<double> m_scale(const Eigen::VectorXd& r, long p, double start) {
  const double denominator = static_cast<double>(r.size() - p) * kB;
  double s = start;
  for (int it = 0; it < kMaxSteps; ++it) {
    double sum = 0;
    for (Eigen::Index i = 0; i < r.size(); ++i) sum += chi(r(i) / s, kChiC);
    const double next = s * std::sqrt(sum / denominator);
    if (!(next > 0) || !std::isfinite(next)) return std::nullopt;
    if (std::fabs(next - s) <= kTolerance * s) return next;
    s = next;
  }
  return s;
}

std::optional<double> initial_scale(const Eigen::VectorXd& r) {
  std::vector<double> a(static_cast<std::size_t>(r.size()));
  for (Eigen::Index i = 0; i < r.size(); ++i) a[static_cast<std::size_t>(i)] = std::fabs(r(i));
  const double mad = detail::median_of(a) / 0.6745;
  if (!(mad > 0)) return std::nullopt;
  return mad;
}

// Weighted least squares with weights that may be 0; nothing when rank deficient.
std::optional<Eigen::VectorXd> weighted_solve(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                              const Eigen::VectorXd& v) {
  const Eigen::VectorXd root = v.array().sqrt();
  const Eigen::MatrixXd A = root.asDiagonal() * X;
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(A);
  if (qr.rank() < X.cols()) return std::nullopt;
  return Eigen::VectorXd(qr.solve(root.cwiseProduct(y)));
}

struct SFit {
  Eigen::VectorXd beta;
  double scale = 0;
};

// S-IRWLS from beta: the scale of the residuals, the bisquare weights at it, a weighted LS step;
// `steps` of them, or until beta settles. Nothing when the scale collapses or the step is singular.
std::optional<SFit> refine(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, Eigen::VectorXd beta, int steps) {
  const long p = X.cols();
  Eigen::VectorXd r = y - X * beta;
  auto start = initial_scale(r);
  if (!start) return std::nullopt;
  std::optional<double> s = m_scale(r, p, *start);
  for (int it = 0; s && it < steps; ++it) {
    Eigen::VectorXd v(r.size());
    for (Eigen::Index i = 0; i < r.size(); ++i) v(i) = irwls_weight(r(i) / *s, kChiC);
    auto next = weighted_solve(X, y, v);
    if (!next) return std::nullopt;
    const bool settled = (*next - beta).norm() <= kTolerance * std::max(beta.norm(), 1e-300);
    beta = *next;
    r = y - X * beta;
    s = m_scale(r, p, *s);
    if (settled) break;
  }
  if (!s) return std::nullopt;
  return SFit{beta, *s};
}

// Candidate starts: the exact fits of elemental subsets (one row for p = 1, two for p = 2).
std::vector<Eigen::VectorXd> candidates(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, std::uint64_t seed) {
  const auto n = static_cast<std::size_t>(X.rows());
  const long p = X.cols();
  std::vector<Eigen::VectorXd> out;
  const auto exact = [&](std::size_t i, std::size_t j) {
    if (p == 1) {
      if (X(static_cast<Eigen::Index>(i), 0) != 0)
        out.push_back(Eigen::VectorXd::Constant(1, y(static_cast<Eigen::Index>(i)) / X(static_cast<Eigen::Index>(i), 0)));
      return;
    }
    Eigen::Matrix2d A;
    A << X.row(static_cast<Eigen::Index>(i)), X.row(static_cast<Eigen::Index>(j));
    const double det = A.determinant();
    if (!(std::fabs(det) > 0)) return;
    out.push_back(A.inverse() * Eigen::Vector2d(y(static_cast<Eigen::Index>(i)), y(static_cast<Eigen::Index>(j))));
  };
  const double subsets = p == 1 ? static_cast<double>(n) : static_cast<double>(n) * static_cast<double>(n - 1) / 2;
  if (subsets <= static_cast<double>(kAllSubsets)) {
    for (std::size_t i = 0; i < n; ++i) {
      if (p == 1) exact(i, i);
      else
        for (std::size_t j = i + 1; j < n; ++j) exact(i, j);
    }
  } else {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    for (std::size_t k = 0; k < kDrawnSubsets; ++k) {
      const std::size_t i = pick(rng);
      std::size_t j = pick(rng);
      while (p == 2 && j == i) j = pick(rng);
      exact(i, j);
    }
  }
  return out;
}

struct MmFit {
  Eigen::VectorXd beta;
  double scale = 0;
  Eigen::MatrixXd covariance;
};

// lmrob's MM-estimate of y on X (rows already multiplied by sqrt(weight)), with .vcov.avar1.
std::optional<MmFit> mm_fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, std::uint64_t seed,
                            std::string& why) {
  const long p = X.cols();
  const auto n = X.rows();
  // S-estimate: two steps from every candidate, the best kRefined refined to convergence.
  std::vector<SFit> quick;
  for (const Eigen::VectorXd& start : candidates(X, y, seed))
    if (auto fit = refine(X, y, start, 2)) quick.push_back(*fit);
  if (quick.empty()) {
    why = "no elemental subset gives a robust scale above 0 (more than half the instruments fit exactly)";
    return std::nullopt;
  }
  std::stable_sort(quick.begin(), quick.end(), [](const SFit& a, const SFit& b) { return a.scale < b.scale; });
  std::optional<SFit> best;
  for (std::size_t k = 0; k < std::min(kRefined, quick.size()); ++k)
    if (auto fit = refine(X, y, quick[k].beta, kMaxSteps))
      if (!best || fit->scale < best->scale) best = fit;
  if (!best) {
    why = "the S-estimate's scale collapses to 0 (half the instruments or more fit exactly) or does not converge";
    return std::nullopt;
  }
  const double s = best->scale;
  if (!(s > 1e-12 * y.cwiseAbs().maxCoeff())) {
    why = "the S-estimate's scale is 0 to rounding: half the instruments or more fit exactly (lmrob's exact fit)";
    return std::nullopt;
  }
  const Eigen::VectorXd r0 = y - X * best->beta;

  // MM: IRWLS at the fixed scale from the S coefficients.
  Eigen::VectorXd beta = best->beta;
  bool converged = false;
  for (int it = 0; it < kMaxSteps && !converged; ++it) {
    const Eigen::VectorXd r = y - X * beta;
    Eigen::VectorXd v(n);
    for (Eigen::Index i = 0; i < n; ++i) v(i) = irwls_weight(r(i) / s, kPsiC);
    auto next = weighted_solve(X, y, v);
    if (!next) {
      why = "the MM-estimate's weighted regression is singular";
      return std::nullopt;
    }
    converged = (*next - beta).norm() <= kTolerance * std::max(beta.norm(), 1e-300);
    beta = *next;
  }
  if (!converged) {
    why = "the MM-estimate's iterations did not converge";
    return std::nullopt;
  }

  // .vcov.avar1
  const Eigen::VectorXd r = y - X * beta;
  Eigen::VectorXd w(n), w0(n), psi_w(n), chi_w0(n);
  double mean_w0r0 = 0, mean_chi2 = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double rs = r(i) / s, r0s = r0(i) / s;
    w(i) = psi_derivative(rs, kPsiC);
    w0(i) = chi_derivative(r0s, kChiC);
    mean_w0r0 += w0(i) * r0s;
    psi_w(i) = psi(rs, kPsiC);
    chi_w0(i) = chi(r0s, kChiC);
    mean_chi2 += chi_w0(i) * chi_w0(i) - kB * kB;
  }
  mean_w0r0 /= static_cast<double>(n);
  mean_chi2 /= static_cast<double>(n);
  const Eigen::MatrixXd xwx = X.transpose() * w.asDiagonal() * X;
  Eigen::FullPivLU<Eigen::MatrixXd> lu(xwx);
  if (!lu.isInvertible() || !(std::fabs(mean_w0r0) > 0)) {
    why = "X'WX of the MM-estimate is singular (its covariance cannot be computed)";
    return std::nullopt;
  }
  const Eigen::MatrixXd A = lu.inverse() * s;
  Eigen::VectorXd wr(n);
  for (Eigen::Index i = 0; i < n; ++i) wr(i) = w(i) * r(i) / s;
  const Eigen::VectorXd a = A * (X.transpose() * wr) / mean_w0r0;
  const Eigen::VectorXd xww = X.transpose() * psi_w.cwiseProduct(chi_w0);
  const Eigen::MatrixXd u1 = A * (X.transpose() * psi_w.array().square().matrix().asDiagonal() * X) *
                             (static_cast<double>(n) * A);
  const Eigen::MatrixXd u2 = a * (xww.transpose() * A);
  const Eigen::MatrixXd u3 = A * xww * a.transpose();
  const Eigen::MatrixXd u4 = mean_chi2 * a * a.transpose();
  Eigen::MatrixXd covariance = (u1 - u2 - u3 + u4) / static_cast<double>(n);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(covariance);
  if ((eigen.eigenvalues().array() < 0).any()) {  // posdefify
    const Eigen::VectorXd diagonal = covariance.diagonal();
    const Eigen::VectorXd lambda = eigen.eigenvalues().cwiseMax(0.0);
    Eigen::MatrixXd fixed = eigen.eigenvectors() * lambda.asDiagonal() * eigen.eigenvectors().transpose();
    Eigen::VectorXd d(p);
    for (long i = 0; i < p; ++i) d(i) = fixed(i, i) > 0 ? std::sqrt(std::max(0.0, diagonal(i)) / fixed(i, i)) : 0;
    covariance = d.asDiagonal() * fixed * d.asDiagonal();
  }
  return MmFit{beta, s, covariance};
}

// Rows with positive weight, multiplied by sqrt(weight) (lmrob's treatment of `weights`).
void weigh(detail::PositiveRows& rows) {
  for (Eigen::Index i = 0; i < rows.y.size(); ++i) {
    const double root = std::sqrt(rows.w(i));
    rows.X.row(i) *= root;
    rows.y(i) *= root;
  }
}

}  // namespace

MrResult fit_ivw_robust(const Instruments& in, bool penalized, const MrOptions& options) {
  const MrMethod method = penalized ? MrMethod::ivw_penalized_robust : MrMethod::ivw_robust;
  const std::size_t n = in.size();
  if (n < 2)
    return detail::not_estimable(method, n,
                                 "too few instruments (" + std::to_string(n) + "; " + mr_method_name(method) + " needs 2)");
  if (auto reason = detail::zero_byse_reason(in)) return detail::not_estimable(method, n, *reason);
  if (std::all_of(in.bx.begin(), in.bx.end(), [](double bx) { return bx == 0; }))
    return detail::not_estimable(method, n, "all bx are zero: the instruments do not move the exposure");
  const auto rows = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd X(rows, 1);
  Eigen::VectorXd y(rows), w(rows);
  for (Eigen::Index i = 0; i < rows; ++i) {
    const auto j = static_cast<std::size_t>(i);
    X(i, 0) = in.bx[j];
    y(i) = in.by[j];
    w(i) = 1 / (in.byse[j] * in.byse[j]);
  }
  if (penalized) w = detail::ivw_penalized_weights(in);
  detail::PositiveRows kept = detail::positive_rows(X, y, w);
  if (kept.X.rows() < 2)
    return detail::not_estimable(method, n, "fewer than 2 instruments with weight > 0");
  weigh(kept);
  std::string why;
  const auto fit = mm_fit(kept.X, kept.y, options.seed, why);
  if (!fit) return detail::not_estimable(method, n, why);

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  const bool random = n >= 4;
  result.model = random ? "random" : "fixed";
  const double s = fit->scale, lmrob_se = std::sqrt(fit->covariance(0, 0));
  detail::set_wald(result, fit->beta(0), random ? lmrob_se / std::min(s, 1.0) : lmrob_se / s, options,
                   static_cast<long>(n) - 1);
  result.residual_se = s;
  if (!penalized) {
    const double df = static_cast<double>(n - 1);
    result.q = df * s * s;
    result.q_df = static_cast<long>(n - 1);
    result.q_pvalue = chi_squared_upper_p(*result.q, df);
  }
  result.f_mean = mean_f_statistic(in);
  return result;
}

MrResult fit_egger_robust(const Instruments& instruments, bool penalized, const MrOptions& options) {
  const MrMethod method = penalized ? MrMethod::egger_penalized_robust : MrMethod::egger_robust;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 3)
    return detail::not_estimable(method, n,
                                 "too few instruments (" + std::to_string(n) + " with bx != 0; " +
                                     mr_method_name(method) + " needs 3)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);
  const auto rows = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd X(rows, 2);
  Eigen::VectorXd y(rows), base(rows);
  for (Eigen::Index i = 0; i < rows; ++i) {
    const auto j = static_cast<std::size_t>(i);
    const double sign = used.bx[j] < 0 ? -1.0 : 1.0;
    X(i, 0) = 1;
    X(i, 1) = sign * used.bx[j];
    y(i) = sign * used.by[j];
    base(i) = 1 / (used.byse[j] * used.byse[j]);
  }
  Eigen::VectorXd w = base;
  if (penalized) {
    const WlsFit first = weighted_least_squares(X, y, base);
    if (!first.full_rank)
      return detail::not_estimable(method, n,
                                   "all instruments have the same |bx|: slope and intercept are not identified");
    w = detail::egger_penalized_weights(X, y, base, first.coefficients);
  }
  detail::PositiveRows kept = detail::positive_rows(X, y, w);
  if (kept.X.rows() < 3) return detail::not_estimable(method, n, "fewer than 3 instruments with weight > 0");
  if ((kept.X.col(1).array() == kept.X(0, 1)).all())
    return detail::not_estimable(method, n,
                                 "all instruments have the same |bx|: slope and intercept are not identified");
  weigh(kept);
  std::string why;
  const auto fit = mm_fit(kept.X, kept.y, options.seed, why);
  if (!fit) return detail::not_estimable(method, n, why);

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  const long df = static_cast<long>(n) - 2;
  const double s = fit->scale, scale = std::min(s, 1.0);
  const double slope = fit->beta(1), slope_se = std::sqrt(fit->covariance(1, 1)) / scale;
  const detail::EggerInference b = detail::egger_inference(slope, slope_se, s, df, options);
  result.estimate = slope;
  result.se = slope_se;
  result.ci_low = b.ci_low;
  result.ci_high = b.ci_high;
  result.pvalue = b.pvalue;
  const double intercept = fit->beta(0), intercept_se = std::sqrt(fit->covariance(0, 0)) / scale;
  const detail::EggerInference a = detail::egger_inference(intercept, intercept_se, s, df, options);
  result.intercept = intercept;
  result.intercept_se = intercept_se;
  result.intercept_ci_low = a.ci_low;
  result.intercept_ci_high = a.ci_high;
  result.intercept_pvalue = a.pvalue;
  if (options.distribution == Distribution::t) result.df = df;
  result.residual_se = s;
  if (!penalized) {
    double q = 0;
    for (Eigen::Index i = 0; i < rows; ++i) {
      const double e = (y(i) - intercept - slope * X(i, 1)) * std::sqrt(base(i));
      q += e * e;
    }
    result.q = q;
    result.q_df = df;
    result.q_pvalue = chi_squared_upper_p(q, static_cast<double>(df));
  }
  result.i2_gx = i_squared_gx(used);
  result.f_mean = mean_f_statistic(used);
  return result;
}

}  // namespace deepmr::stats
