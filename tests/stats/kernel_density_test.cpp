// R's density() as the mode-based estimate uses it: its grids, its mass, its agreement with the
// exact (unbinned) kernel density, and the mode.
#include "deepmr/stats/kernel_density.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "deepmr/stats/mode.hpp"

namespace deepmr::stats {
namespace {

TEST(KernelDensity, SequenceIsRsSeqIntWithExactEnds) {
  const auto s = r_sequence(-1.3, 2.9, 512);
  ASSERT_EQ(s.size(), 512u);
  EXPECT_EQ(s.front(), -1.3);
  EXPECT_EQ(s.back(), 2.9);
  const double by = (2.9 - -1.3) / 511;
  EXPECT_EQ(s[100], -1.3 + 100 * by);       // first half counts up from `from`
  EXPECT_EQ(s[400], 2.9 - (511 - 400) * by);  // second half counts down from `to`
  EXPECT_EQ(r_sequence(0, 1, 2), (std::vector<double>{0, 1}));
}

TEST(KernelDensity, IntegratesToOneAndMatchesTheExactDensity) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> normal;
  std::vector<double> values(300), weights(300);
  double total = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = normal(rng) + (i % 3 == 0 ? 4 : 0);
    weights[i] = 0.5 + std::fabs(normal(rng));
    total += weights[i];
  }
  for (double& w : weights) w /= total;
  const double h = 0.3;
  KernelDensity density;
  const DensityGrid& grid = density.estimate(values, weights, h);
  ASSERT_EQ(grid.x.size(), 512u);
  double mass = 0;
  for (std::size_t i = 1; i < grid.x.size(); ++i) mass += (grid.x[i] - grid.x[i - 1]) * (grid.y[i] + grid.y[i - 1]) / 2;
  EXPECT_NEAR(mass, 1.0, 0.01);  // cut = 3 bandwidths leaves a sliver outside the grid
  double worst = 0, peak = 0;
  for (std::size_t i = 0; i < grid.x.size(); i += 7) {
    double exact = 0;
    for (std::size_t j = 0; j < values.size(); ++j) {
      const double z = (grid.x[i] - values[j]) / h;
      exact += weights[j] * std::exp(-0.5 * z * z) / (h * std::sqrt(2 * M_PI));
    }
    worst = std::max(worst, std::fabs(exact - grid.y[i]));
    peak = std::max(peak, exact);
  }
  EXPECT_LT(worst, 0.01 * peak);  // binning on R's grid is accurate to about a percent
}

TEST(KernelDensity, ModeIsTheHighestGridPoint) {
  KernelDensity density;
  const std::vector<double> values{-1, 1, 5, 5.2}, weights{0.2, 0.2, 0.3, 0.3};
  const double mode = density.mode(values, weights, 0.5);
  const DensityGrid& grid = density.estimate(values, weights, 0.5);
  const double spacing = grid.x[1] - grid.x[0];
  EXPECT_NEAR(mode, 5.1, spacing);
  for (double y : grid.y) EXPECT_LE(y, *std::max_element(grid.y.begin(), grid.y.end()));
}

TEST(KernelDensity, ModeBasedEstimateNeedsSpread) {
  EXPECT_TRUE(std::isnan(mode_based_estimate({2, 2, 2, 2, 3}, {1, 1, 1, 1, 1}, 1)));
  EXPECT_FALSE(std::isnan(mode_based_estimate({1, 2, 2.5, 3, 7}, {1, 1, 1, 1, 1}, 1)));
}

}  // namespace
}  // namespace deepmr::stats
