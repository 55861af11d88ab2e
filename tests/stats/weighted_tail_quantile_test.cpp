// The central grid's tail quantiles over bootstrap-like draws: WeightedTailQuantile returns, bit for
// bit, what the halving definition returns on the same pairs, also where the cumulative weight
// lands exactly on the mass (its margin sends those to the definition), with ties, zero weights
// and negative ones.
#include "deepmr/stats/weighted_tail_quantile.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace deepmr::stats {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

double total_of(const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  return total;
}

double definition_lower(const std::vector<double>& values, const std::vector<double>& weights, double mass) {
  std::vector<std::pair<double, double>> pairs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) pairs[i] = {values[i], weights[i]};
  return weighted_lower_quantile_by_halving(pairs, mass);
}

double definition_upper(const std::vector<double>& values, const std::vector<double>& weights, double mass) {
  std::vector<std::pair<double, double>> pairs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) pairs[i] = {-values[i], weights[i]};
  return -weighted_lower_quantile_by_halving(pairs, mass);
}

// Draws around fixed ratios with heavy-tailed spreads and unequal weights, as the mode's bootstrap;
// how many of the 600 quantiles the definition answered.
std::size_t expect_definition_over_draws(std::vector<double> weights, double tail, bool ties) {
  const std::size_t n = weights.size();
  std::mt19937_64 rng(n * 31 + static_cast<std::uint64_t>(tail * 1e4));
  std::normal_distribution<double> normal;
  std::student_t_distribution<double> heavy(1.5);
  std::vector<double> center(n), spread(n), values(n);
  for (std::size_t i = 0; i < n; ++i) {
    center[i] = heavy(rng);
    spread[i] = 0.01 + std::fabs(heavy(rng));
  }
  const double total = total_of(weights), mass = tail * total;
  WeightedTailQuantile tails;
  for (int draw = 0; draw < 300; ++draw) {
    for (std::size_t i = 0; i < n; ++i) values[i] = center[i] + spread[i] * normal(rng);
    if (ties)
      for (std::size_t i = 0; i < n; i += 3) values[i] = std::round(values[i] * 4) / 4;
    EXPECT_TRUE(same_bits(tails.lower(values, weights, mass, total), definition_lower(values, weights, mass)))
        << "draw " << draw;
    EXPECT_TRUE(same_bits(tails.upper(values, weights, mass, total), definition_upper(values, weights, mass)))
        << "draw " << draw;
  }
  return tails.definitions_run();
}

TEST(WeightedTailQuantile, EqualsTheHalvingDefinitionOverDraws) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (std::size_t n : {3u, 17u, 400u, 3000u}) {
    std::vector<double> weights(n);
    for (double& w : weights) w = std::pow(uniform(rng), 4);  // very unequal, as 1 / se^2
    EXPECT_LT(expect_definition_over_draws(weights, 0.001, false), 300u);  // the bracket answers most
    EXPECT_LT(expect_definition_over_draws(weights, 0.05, true), 300u);
  }
}

TEST(WeightedTailQuantile, MassLandingExactlyOnACumulativeWeightGoesToTheDefinition) {
  // Equal weights: the cumulative weights are exact multiples, and the mass is one of them.
  const std::size_t n = 1000;
  const std::vector<double> weights(n, 1.0);
  EXPECT_EQ(expect_definition_over_draws(weights, 0.01, false), 600u);
  expect_definition_over_draws(weights, 0.01, true);
}

TEST(WeightedTailQuantile, ZeroAndNegativeWeightsGiveTheDefinition) {
  std::vector<double> weights(500, 1.0);
  for (std::size_t i = 0; i < weights.size(); i += 4) weights[i] = 0;
  expect_definition_over_draws(weights, 0.02, false);
  std::vector<double> values(500), signed_weights(500);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal;
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = normal(rng);
    signed_weights[i] = i % 7 == 0 ? -0.5 : 1.0;
  }
  const double total = total_of(signed_weights), mass = 0.02 * total;
  WeightedTailQuantile tails;
  for (int draw = 0; draw < 3; ++draw)
    EXPECT_TRUE(same_bits(tails.lower(values, signed_weights, mass, total),
                          definition_lower(values, signed_weights, mass)));
  EXPECT_EQ(tails.definitions_run(), 3u);  // each draw went to the definition, not the bracket
}

}  // namespace
}  // namespace deepmr::stats
