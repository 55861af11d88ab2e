#pragma once
// Weighted least squares (Eigen), as R's lm(y ~ X, weights = w) computes it: the fit behind IVW
// (one column, no intercept) and MR-Egger (intercept and slope).

#include <Eigen/Core>

namespace deepmr::stats {

struct WlsFit {
  bool full_rank = false;             // false: X is (numerically) rank deficient; nothing else is set
  Eigen::VectorXd coefficients;       // beta minimising sum w (y - X beta)^2
  Eigen::MatrixXd unscaled_covariance;  // (X' W X)^-1: the covariance when the residual variance is 1
  double residual_sum_of_squares = 0;   // sum w (y - X beta)^2
  long residual_df = 0;                 // rows - columns
  // The residual standard error sqrt(RSS / df) (R's sigma); needs residual_df > 0.
  double residual_se() const;
};

// Solves by a column-pivoting Householder QR of sqrt(W) X (never the normal equations), with
// the rank decided at Eigen's default threshold. Weights must be positive and finite.
WlsFit weighted_least_squares(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& w);

}  // namespace deepmr::stats
