#include "deepmr/stats/least_squares.hpp"

#include <Eigen/QR>
#include <cmath>

namespace deepmr::stats {

double WlsFit::residual_se() const { return std::sqrt(residual_sum_of_squares / static_cast<double>(residual_df)); }

WlsFit weighted_least_squares(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  const Eigen::VectorXd root_w = w.array().sqrt();
  const Eigen::MatrixXd A = root_w.asDiagonal() * X;
  const Eigen::VectorXd b = root_w.cwiseProduct(y);
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(A);

  WlsFit fit;
  fit.full_rank = qr.rank() == X.cols();
  if (!fit.full_rank) return fit;
  fit.coefficients = qr.solve(b);
  const Eigen::VectorXd residuals = b - A * fit.coefficients;
  fit.residual_sum_of_squares = residuals.squaredNorm();
  fit.residual_df = static_cast<long>(X.rows() - X.cols());
  // (X'WX)^-1 = P (R'R)^-1 P' with R the triangular factor and P the column permutation.
  const long p = X.cols();
  const Eigen::MatrixXd R = qr.matrixR().topLeftCorner(p, p).triangularView<Eigen::Upper>();
  const Eigen::MatrixXd R_inverse =
      R.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(p, p));
  const Eigen::MatrixXd permuted = R_inverse * R_inverse.transpose();
  fit.unscaled_covariance = qr.colsPermutation() * permuted * qr.colsPermutation().transpose();
  return fit;
}

}  // namespace deepmr::stats
