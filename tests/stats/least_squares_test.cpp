// Weighted least squares against closed forms, and rank deficiency.
#include "deepmr/stats/least_squares.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>

namespace deepmr::stats {
namespace {

TEST(LeastSquares, InterceptAndSlopeMatchTheNormalEquations) {
  Eigen::MatrixXd X(5, 2);
  X << 1, 0.1, 1, 0.4, 1, 0.35, 1, 0.8, 1, 1.1;
  Eigen::VectorXd y(5), w(5);
  y << 0.3, 0.9, 0.7, 1.9, 2.2;
  w << 1, 2, 0.5, 4, 1;
  const WlsFit fit = weighted_least_squares(X, y, w);
  ASSERT_TRUE(fit.full_rank);
  const Eigen::MatrixXd xtwx = X.transpose() * w.asDiagonal() * X;
  const Eigen::VectorXd beta = xtwx.ldlt().solve(X.transpose() * w.asDiagonal() * y);
  EXPECT_NEAR(fit.coefficients(0), beta(0), 1e-12);
  EXPECT_NEAR(fit.coefficients(1), beta(1), 1e-12);
  const Eigen::MatrixXd inverse = xtwx.inverse();
  EXPECT_TRUE(fit.unscaled_covariance.isApprox(inverse, 1e-12));
  const Eigen::VectorXd r = y - X * beta;
  EXPECT_NEAR(fit.residual_sum_of_squares, (w.array() * r.array().square()).sum(), 1e-12);
  EXPECT_EQ(fit.residual_df, 3);
  EXPECT_NEAR(fit.residual_se(), std::sqrt(fit.residual_sum_of_squares / 3), 1e-15);
}

TEST(LeastSquares, CollinearColumnsAreReportedRankDeficient) {
  Eigen::MatrixXd X(4, 2);
  X << 1, 2, 1, 2, 1, 2, 1, 2;
  const Eigen::VectorXd y = Eigen::VectorXd::LinSpaced(4, 0, 1), w = Eigen::VectorXd::Ones(4);
  EXPECT_FALSE(weighted_least_squares(X, y, w).full_rank);
}

}  // namespace
}  // namespace deepmr::stats
