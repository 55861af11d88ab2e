// The weighted median: MendelianRandomization's definition on small cases worked by hand, and the
// fast bootstrap selector agreeing with the sort-based definition bit for bit.
#include "deepmr/stats/weighted_median.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {
namespace {

double median_of(const std::vector<double>& values, const std::vector<double>& weights) {
  return weighted_median(values, FixedWeights(weights));
}

TEST(WeightedMedian, EqualWeightsGiveTheOrdinaryMedianForOddCounts) {
  EXPECT_DOUBLE_EQ(median_of({3, 1, 2}, {1, 1, 1}), 2);
  EXPECT_DOUBLE_EQ(median_of({10, -4, 7, 0, 2}, {1, 1, 1, 1, 1}), 2);
}

TEST(WeightedMedian, InterpolatesBetweenTheValuesStraddlingOneHalf) {
  // Positions 1/4 and 3/4: halfway between 1 and 2.
  EXPECT_DOUBLE_EQ(median_of({2, 1}, {1, 1}), 1.5);
  // Weights 1, 2, 1 (total 4): positions 1/8, 1/2, 7/8; the middle value sits exactly at 1/2.
  EXPECT_DOUBLE_EQ(median_of({5, 3, 9}, {2, 1, 1}), 5);
  // Weights 3, 1 (total 4): positions 3/8 and 7/8, so 1 + (2 - 1) * (1/8) / (1/2) = 1.25.
  EXPECT_DOUBLE_EQ(median_of({1, 2}, {3, 1}), 1.25);
}

TEST(WeightedMedian, AllWeightOnOneValueReturnsIt) {
  EXPECT_EQ(median_of({4, -1, 8}, {0, 5, 0}), -1);
  EXPECT_EQ(median_of({7}, {2}), 7);
}

TEST(WeightedMedian, TiesAreOrderedByWeightSoInputOrderDoesNotMatter) {
  const std::vector<double> values{1, 2, 2, 3}, weights{1, 3, 1, 1};
  const std::vector<double> values_swapped{1, 2, 2, 3}, weights_swapped{1, 1, 3, 1};
  EXPECT_EQ(median_of(values, weights), median_of(values_swapped, weights_swapped));
}

TEST(WeightedMedian, InvalidWeightsAreRejected) {
  EXPECT_THROW(FixedWeights({1, -1}), InternalError);
  EXPECT_THROW(FixedWeights({0, 0}), InternalError);
  EXPECT_THROW(FixedWeights({1, NAN}), InternalError);
  EXPECT_THROW(median_of({1, 2}, {1}), InternalError);
}

TEST(WeightedMedian, FixedSharesAddUpToTwoToThe62) {
  const FixedWeights w({0.5, 0.25, 0.25});
  EXPECT_EQ(w.total(), std::uint64_t{1} << 62);
  EXPECT_EQ(w[0], std::uint64_t{1} << 61);
}

// Bootstrap-like draws around fixed centres with fixed weights, as the median SE makes them.
void expect_selector_matches_definition(std::size_t n, double noise, bool heavy_weights, bool ties,
                                        std::uint64_t seed, std::size_t* fallbacks = nullptr) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> centres(n), weights(n);
  for (std::size_t i = 0; i < n; ++i) {
    centres[i] = ties ? std::round(normal(rng)) : normal(rng);
    const double z = normal(rng);
    weights[i] = heavy_weights ? std::exp(4 * z) : 1 + 0.1 * std::fabs(z);
    if (i % 17 == 0) weights[i] = 0;
  }
  weights[n - 1] = 1;  // never all zero
  const FixedWeights fixed(weights);
  WeightedMedianSelector select(fixed);
  std::vector<double> draw(n);
  for (int d = 0; d < 400; ++d) {
    for (std::size_t i = 0; i < n; ++i) {
      const double value = centres[i] + noise * normal(rng);
      draw[i] = ties ? std::round(value) : value;  // ties: a few integers shared by many entries
    }
    if (d == 200) draw[0] = 1e6;  // an outlier now and then
    const double fast = select(draw), slow = weighted_median(draw, fixed);
    ASSERT_EQ(std::memcmp(&fast, &slow, sizeof fast), 0) << "draw " << d << ": " << fast << " vs " << slow;
  }
  if (fallbacks) *fallbacks = select.fallbacks();
}

TEST(WeightedMedian, SelectorEqualsTheSortBasedDefinitionBitForBit) {
  std::size_t typical = 0, wild = 0;
  expect_selector_matches_definition(3000, 0.05, false, false, 1, &typical);
  expect_selector_matches_definition(3000, 2.0, true, false, 2, &wild);
  expect_selector_matches_definition(500, 0.5, true, false, 3);
  expect_selector_matches_definition(200, 0.0, false, true, 4);   // many exact ties, the same each draw
  expect_selector_matches_definition(2000, 0.7, true, true, 7);   // large groups of equal values
  expect_selector_matches_definition(2000, 0.7, false, true, 8);
  expect_selector_matches_definition(3, 1.0, false, false, 5);
  expect_selector_matches_definition(1, 1.0, false, false, 6);
  // The fast path is taken almost always on bootstrap-like data, and the fallback is exercised.
  EXPECT_LT(typical, 20u);
  EXPECT_GE(typical, 1u);
  EXPECT_GT(wild, typical);
}

}  // namespace
}  // namespace deepmr::stats
