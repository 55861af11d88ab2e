// The mode of the weighted kernel density where R's grid cannot resolve it (issue 15, item 10):
// far-out ratio estimates of instruments with bx near 0 make R's 512-point grid many bandwidths
// coarse. The central-mass grid finds the mode, a flat spread is reported as not resolved, and
// ordinary inputs keep R's answer bit for bit.
#include "deepmr/stats/density_mode.hpp"

#include <gtest/gtest.h>

#include <random>

#include "deepmr/stats/mode.hpp"
#include "deepmr/stats/mr.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

// 10^6 instruments of true ratio 0.5: bx ~ N(0, 0.1), by = 0.5 bx + N(0, byse); the ratios by / bx
// of the instruments with bx near 0 reach about +-10^6.
Instruments million_instruments() {
  const std::size_t n = 1000000;
  std::mt19937_64 rng(20261201);
  std::normal_distribution<double> normal;
  Instruments in;
  in.bx.resize(n);
  in.bxse.assign(n, 0.01);
  in.by.resize(n);
  in.byse.assign(n, 0.02);
  for (std::size_t i = 0; i < n; ++i) {
    in.bx[i] = 0.1 * normal(rng);
    in.by[i] = 0.5 * in.bx[i] + 0.02 * normal(rng);
  }
  return in;
}

TEST(DensityMode, MillionInstrumentsFindTheTrueRatioOnTheCentralGrid) {
  MrOptions options;
  options.bootstrap_draws = 0;  // the estimate alone: keeps the test fast
  const MrResult r = fit_mr(MrMethod::mode_weighted, million_instruments(), options);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_NEAR(*r.estimate, 0.5, 0.01);  // R's grid (spacing ~7000 for a bandwidth of 0.017) is far off
  EXPECT_NE(r.reason.find("R's density grid is too coarse"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("central 99.8% of the weight"), std::string::npos) << r.reason;
  EXPECT_LE(r.reason.size(), 120u);  // the store's reason width
}

TEST(DensityMode, CentralGridIsTakenOnlyWhereRsGridIsTooCoarse) {
  DensityModeFinder finder;
  KernelDensity r_density;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> values(400), weights(400, 1.0);
  for (double& v : values) v = normal(rng);
  const DensityMode ordinary = finder.find(values, weights, 0.3);
  EXPECT_EQ(ordinary.grid, ModeGrid::r);
  EXPECT_TRUE(ordinary.resolved());
  EXPECT_EQ(ordinary.x, r_density.mode(values, weights, 0.3));  // bit for bit R's

  values[0] = 1e5;  // one far value (little weight) makes R's grid 650 bandwidths coarse
  weights[0] = 1e-3;
  const DensityMode far = finder.find(values, weights, 0.3);
  EXPECT_EQ(far.grid, ModeGrid::central_mass);
  EXPECT_TRUE(far.resolved());
  EXPECT_GT(far.r_spacing_in_bandwidths, kMaxModeGridSpacing);
  EXPECT_NEAR(far.x, ordinary.x, 0.1);
}

TEST(DensityMode, FlatSpreadIsReportedAsNotResolved) {
  // Most instruments agree closely (a small bandwidth) but carry little weight; the weight is
  // spread thinly over +-1000, so no grid of 512 points resolves the density.
  std::vector<double> values, weights;
  for (int i = 0; i < 900; ++i) values.push_back(0.001 * (i % 10)), weights.push_back(1e-4);
  for (int i = 0; i < 100; ++i) values.push_back(-1000 + 20 * i), weights.push_back(1);
  DensityModeFinder finder;
  const DensityMode mode = finder.find(values, weights, 1e-3);
  EXPECT_FALSE(mode.resolved());
  EXPECT_GT(mode.spacing_in_bandwidths, kMaxModeGridSpacing);
}

TEST(DensityMode, LipidModeKeepsRsGridInEveryBootstrapDraw) {
  MrOptions options;
  options.bootstrap_draws = 10000;
  const MrResult r = fit_mr(MrMethod::mode_weighted, test::lipid_instruments(), options);
  ASSERT_TRUE(r.estimable) << r.reason;
  EXPECT_EQ(r.reason, "");  // no draw left R's grid: the R-matched numbers are R's computation
  EXPECT_NEAR(*r.estimate, 2.94630057209513, 1e-12);
}

}  // namespace
}  // namespace deepmr::stats
