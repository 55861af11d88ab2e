#include "deepmr/stats/ivw.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/heterogeneity.hpp"
#include "deepmr/stats/least_squares.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {

namespace {

// The second-order weights of instruments with bx != 0, or why they cannot be formed: each is the
// inverse of the delta-method variance of by - theta bx at theta = by / bx (the instrument's own
// ratio estimate), as mr_ivw has it.
std::optional<std::string> delta_weights(const Instruments& in, const MrOptions& options, Eigen::VectorXd& weights) {
  weights.resize(static_cast<Eigen::Index>(in.size()));
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double psi = in.psi.empty() ? options.psi : in.psi[i];
    const double ratio = in.by[i] / in.bx[i];
    const double variance = in.byse[i] * in.byse[i] + ratio * ratio * in.bxse[i] * in.bxse[i] -
                            2 * psi * ratio * in.bxse[i] * in.byse[i];
    if (!(variance > 0))
      return std::string("an instrument's second-order variance byse^2 + (by/bx)^2 bxse^2 - 2 psi (by/bx) bxse byse "
                         "is not positive (its ratio estimate has no uncertainty): use weights = simple");
    const double weight = 1 / variance;
    if (!std::isfinite(weight) || !std::isfinite(variance))
      return std::string("an instrument's second-order weight is beyond double precision");
    weights(static_cast<Eigen::Index>(i)) = weight;
  }
  return std::nullopt;
}

// The weighted regression of by on bx through the origin and what IVW reports of it.
MrResult fit_weighted(const Instruments& instruments, const Eigen::VectorXd& weights, IvwModel model, MrMethod method,
                      const MrOptions& options) {
  const std::size_t n = instruments.size();
  if (options.distribution == Distribution::t && n < 2)
    return detail::not_estimable(method, n, "the t distribution needs at least 2 instruments (J - 1 df)");

  const auto rows = static_cast<Eigen::Index>(n);
  const Eigen::Map<const Eigen::VectorXd> bx(instruments.bx.data(), rows), by(instruments.by.data(), rows);
  const WlsFit fit = weighted_least_squares(bx, by, weights);

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  const bool random = model == IvwModel::random || (model == IvwModel::automatic && n >= 4);
  result.model = random ? "random" : "fixed";

  const double fixed_se = std::sqrt(fit.unscaled_covariance(0, 0));
  double residual_se = 1;  // one instrument has no residual: the random model is the fixed one
  if (n >= 2) {
    residual_se = fit.residual_se();
    const double df = static_cast<double>(n - 1);
    result.q = fit.residual_sum_of_squares;
    result.q_df = static_cast<long>(n - 1);
    result.q_pvalue = chi_squared_upper_p(fit.residual_sum_of_squares, df);
    result.i2 = i_squared(fit.residual_sum_of_squares, df);
    result.residual_se = residual_se;
  }
  const double se = random ? fixed_se * std::max(1.0, residual_se) : fixed_se;
  detail::set_wald(result, fit.coefficients(0), se, options, static_cast<long>(n) - 1);
  result.f_mean = mean_f_statistic(instruments);
  return result;
}

// Second-order weights divide by bx: an instrument with bx = 0 (weight 0 in the limit) is left out,
// as the ratio-based methods leave it out.
MrResult fit_ivw_delta(const Instruments& instruments, IvwModel model, MrMethod method, const MrOptions& options) {
  if (instruments.size() == 0) return detail::not_estimable(method, 0, "no instruments");
  const Instruments used = detail::with_nonzero_bx(instruments);
  if (used.size() == 0)
    return detail::not_estimable(method, 0, "all bx are zero: the instruments do not move the exposure");
  Eigen::VectorXd weights;
  if (auto reason = delta_weights(used, options, weights)) return detail::not_estimable(method, used.size(), *reason);
  return fit_weighted(used, weights, model, method, options);
}

}  // namespace

IvwWeights parse_ivw_weights(const std::string& text, const std::string& option) {
  if (text == "simple") return IvwWeights::simple;
  if (text == "delta") return IvwWeights::delta;
  throw UsageError("option '" + option + "': '" + text + "' is neither simple nor delta");
}

bool weighs_ivw(const std::vector<MrMethod>& methods) {
  return std::any_of(methods.begin(), methods.end(), [](MrMethod m) {
    return m == MrMethod::ivw || m == MrMethod::ivw_fixed || m == MrMethod::ivw_random;
  });
}

MrResult fit_ivw(const Instruments& instruments, IvwModel model, const MrOptions& options) {
  const MrMethod method = model == IvwModel::automatic ? MrMethod::ivw
                          : model == IvwModel::fixed   ? MrMethod::ivw_fixed
                                                       : MrMethod::ivw_random;
  if (options.ivw_weights == IvwWeights::delta) return fit_ivw_delta(instruments, model, method, options);
  const std::size_t n = instruments.size();
  if (n == 0) return detail::not_estimable(method, n, "no instruments");
  if (auto reason = detail::zero_byse_reason(instruments)) return detail::not_estimable(method, n, *reason);
  if (std::all_of(instruments.bx.begin(), instruments.bx.end(), [](double bx) { return bx == 0; }))
    return detail::not_estimable(method, n, "all bx are zero: the instruments do not move the exposure");
  const auto rows = static_cast<Eigen::Index>(n);
  const Eigen::VectorXd weights =
      Eigen::Map<const Eigen::VectorXd>(instruments.byse.data(), rows).array().square().inverse();
  return fit_weighted(instruments, weights, model, method, options);
}

}  // namespace deepmr::stats
