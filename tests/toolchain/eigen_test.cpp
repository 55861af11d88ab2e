// Eigen is linked and solves: a weighted least-squares problem with a known exact solution.
#include <gtest/gtest.h>

#include <Eigen/Dense>

TEST(Eigen, WeightedLeastSquaresRecoversExactLine) {
  Eigen::MatrixXd x(5, 2);
  Eigen::VectorXd y(5), w(5);
  for (int i = 0; i < 5; ++i) {
    x(i, 0) = 1.0;
    x(i, 1) = i;
    y(i) = 2.5 - 0.75 * i;
    w(i) = 1.0 + i;
  }
  Eigen::MatrixXd xtw = x.transpose() * w.asDiagonal();
  Eigen::VectorXd beta = (xtw * x).ldlt().solve(xtw * y);
  EXPECT_NEAR(beta(0), 2.5, 1e-12);
  EXPECT_NEAR(beta(1), -0.75, 1e-12);
}
