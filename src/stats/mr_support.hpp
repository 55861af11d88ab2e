#pragma once
// Helpers shared by the MR method implementations (private to the stats layer).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats::detail {

MrResult not_estimable(MrMethod method, std::size_t n_used, std::string reason);

// A number in a reason or warning: 6 significant digits (ostream's default form).
std::string six_digits(double value);

// The instruments with bx != 0 (those with a ratio estimate and an orientation).
Instruments with_nonzero_bx(const Instruments& instruments);

// "N instruments have byse = 0 (...)" when any byse is zero, for methods weighting by 1 / byse^2.
std::optional<std::string> zero_byse_reason(const Instruments& instruments);

// Sample standard deviation (denominator n - 1, two passes); n >= 2.
double sample_sd(const std::vector<double>& values);
// R's median (mean of the two middle values for even n) of a scratch copy; n >= 1.
double median_of(std::vector<double> values);
// R's mad: 1.4826 * median(|x - median(x)|).
double median_absolute_deviation(const std::vector<double>& values);

// Fills estimate, se, CI, p-value and df of `result` from an estimate and SE under the options
// (t with `t_df` degrees of freedom).
void set_wald(MrResult& result, double estimate, double se, const MrOptions& options, long t_df);

// MendelianRandomization's egger.bounds and Egger p-values (egger, egger-penalized). `se` already
// includes max(1, rse).
struct EggerInference {
  double ci_low, ci_high, pvalue;
};
EggerInference egger_inference(double estimate, double se, double rse, long df, const MrOptions& options);

// Penalized weights (penalized.hpp): ivw-penalized's min(1, 100 q_j) / byse^2 for the instruments as
// given; egger-penalized's from the ordinary Egger fit `coefficients` (intercept, slope) of the
// oriented (X = [1, |bx|], y) with base weights 1 / byse^2.
Eigen::VectorXd ivw_penalized_weights(const Instruments& instruments);
Eigen::VectorXd egger_penalized_weights(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& base,
                                        const Eigen::VectorXd& coefficients);
// The rows of (X, y) with a positive weight, as R's lm and lmrob keep them.
struct PositiveRows {
  Eigen::MatrixXd X;
  Eigen::VectorXd y, w;
};
PositiveRows positive_rows(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& w);

// The name of the first non-finite value among the outputs beyond the columns (condition, tau2,
// psi, phi, intervals), or nothing.
std::optional<std::string> non_finite_extra(const MrResult& result);

}  // namespace deepmr::stats::detail
