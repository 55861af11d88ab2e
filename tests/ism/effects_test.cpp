#include "deepmr/ism/effects.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>

#include "deepmr/ism/mutants.hpp"
#include "deepmr/common/error.hpp"

namespace deepmr::ism {
namespace {

TEST(Mutants, FixedOrderPositionMajorThenACGTSkippingTheReference) {
  auto m = enumerate_mutants("GAN");
  ASSERT_EQ(m.size(), 3u + 3u + 4u);
  EXPECT_EQ(m[0].position, 0);
  EXPECT_EQ(m[0].alt, 'A');
  EXPECT_EQ(m[1].alt, 'C');
  EXPECT_EQ(m[2].alt, 'T');
  EXPECT_EQ(m[3].position, 1);
  EXPECT_EQ(m[3].ref, 'A');
  EXPECT_EQ(m[3].alt, 'C');
  EXPECT_EQ(m[6].ref, 'N');
  EXPECT_EQ(m[9].alt, 'T');
}

TEST(Mutants, SequencesAreCheckedAndUpperCased) {
  EXPECT_EQ(checked_sequence("acgT", false, "x"), "ACGT");
  EXPECT_THROW(checked_sequence("ACNT", false, "x"), InputError);
  EXPECT_EQ(checked_sequence("ACNT", true, "x"), "ACNT");
  try {
    checked_sequence("ACXT", false, "--sequence");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--sequence: character 'X' at position 2"), std::string::npos) << e.what();
  }
}

// The paper's formula with N = 2: se = sqrt(mean d^2 - mean^2) = |d1 - d2| / 2.
TEST(EffectAccumulator, TwoSamplesGiveHalfTheirDifference) {
  EffectAccumulator acc(3);
  const double d1[] = {0.3, -1e-9, 5.0}, d2[] = {0.1, 3e-9, 5.0};
  acc.add(d1, 0);
  acc.add(d2, 1);
  std::vector<double> beta, se;
  acc.finish(beta, se);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(beta[i], (d1[i] + d2[i]) / 2, 1e-15 * std::abs(d1[i]) + 1e-24);
    EXPECT_NEAR(se[i], std::abs(d1[i] - d2[i]) / 2, 1e-15 * std::abs(d1[i]) + 1e-24);
  }
  EXPECT_EQ(se[2], 0.0);
}

TEST(EffectAccumulator, OneSampleHasZeroSe) {
  EffectAccumulator acc(1);
  const double d[] = {0.7};
  acc.add(d, 0);
  std::vector<double> beta, se;
  acc.finish(beta, se);
  EXPECT_EQ(beta[0], 0.7);
  EXPECT_EQ(se[0], 0.0);
}

// Welford equals the two-pass population moments, also when se is tiny next to beta.
TEST(EffectAccumulator, MatchesTwoPassMoments) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0.0, 1e-7);
  const int n = 50;
  std::vector<double> d(n);
  EffectAccumulator acc(1);
  for (int i = 0; i < n; ++i) {
    d[i] = 0.25 + noise(rng);
    acc.add(&d[i], i);
  }
  double mean = 0;
  for (double v : d) mean += v / n;
  double var = 0;
  for (double v : d) var += (v - mean) * (v - mean) / n;
  std::vector<double> beta, se;
  acc.finish(beta, se);
  EXPECT_NEAR(beta[0], mean, 1e-15);
  EXPECT_NEAR(se[0], std::sqrt(var), 1e-9 * std::sqrt(var));  // limited by the ulp of d (~5e-17)
  EXPECT_THROW(acc.add(d.data(), 7), InternalError);  // samples must come in order
}

// A run split across devices computes blocks of samples apart; merged in block order they give
// the bits of one accumulator that saw every sample.
TEST(EffectAccumulator, SplitBlocksMergeToTheSameBits) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0.1, 0.05);
  const int n = 37, cells = 5;
  std::vector<std::vector<double>> d(n, std::vector<double>(cells));
  for (auto& row : d)
    for (auto& v : row) v = noise(rng);
  EffectAccumulator whole(cells);
  for (int i = 0; i < n; ++i) whole.add(d[i].data(), i);
  std::vector<double> beta, se;
  whole.finish(beta, se);
  for (int groups : {2, 3, 5}) {
    std::vector<Effects> parts(groups);
    for (int g = 0; g < groups; ++g) {
      EffectAccumulator part(cells);
      for (int i = 0; i < n; ++i)
        if ((i / kSampleBlock) % groups == g) part.add(d[i].data(), i);
      parts[g].mutants.resize(1);
      parts[g].outputs = {0, 1, 2, 3, 4};
      parts[g].blocks = part.blocks();
    }
    auto merged = merge_sample_groups(std::move(parts));
    EXPECT_EQ(merged.beta, beta) << groups;
    EXPECT_EQ(merged.se, se) << groups;
  }
  // And the merge is the population moments.
  for (int c = 0; c < cells; ++c) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; ++i) mean += d[i][c] / n;
    for (int i = 0; i < n; ++i) var += (d[i][c] - mean) * (d[i][c] - mean) / n;
    EXPECT_NEAR(beta[c], mean, 1e-15);
    EXPECT_NEAR(se[c], std::sqrt(var), 1e-14);
  }
}

// The jackknife's leave-group-out effects are the population moments of the samples outside the
// group (group of sample n: n G / N), and split runs give the bits of one accumulator.
TEST(EffectAccumulator, JackknifeLeavesOutEachGroupsSamples) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> noise(0.2, 0.07);
  const int n = 37, cells = 4, groups = 5;
  std::vector<std::vector<double>> d(n, std::vector<double>(cells));
  for (auto& row : d)
    for (auto& v : row) v = noise(rng);
  EffectAccumulator whole(cells, groups, n);
  for (int i = 0; i < n; ++i) whole.add(d[i].data(), i);
  const Jackknife jack = whole.jackknife();
  ASSERT_EQ(jack.beta.size(), static_cast<std::size_t>(groups));
  EXPECT_EQ(jack.sizes, (std::vector<double>{8, 7, 8, 7, 7}));  // n * 5 / 37
  for (int g = 0; g < groups; ++g)
    for (int c = 0; c < cells; ++c) {
      double mean = 0, var = 0, count = 0;
      for (int i = 0; i < n; ++i)
        if (i * groups / n != g) mean += d[i][c], ++count;
      mean /= count;
      for (int i = 0; i < n; ++i)
        if (i * groups / n != g) var += (d[i][c] - mean) * (d[i][c] - mean) / count;
      EXPECT_NEAR(jack.beta[g][c], mean, 1e-15) << g << " " << c;
      EXPECT_NEAR(jack.se[g][c], std::sqrt(var), 1e-14) << g << " " << c;
    }
  // The blocks, and so beta and se, are those of an accumulator without the jackknife.
  EffectAccumulator plain(cells);
  for (int i = 0; i < n; ++i) plain.add(d[i].data(), i);
  std::vector<double> beta, se, plain_beta, plain_se;
  whole.finish(beta, se);
  plain.finish(plain_beta, plain_se);
  EXPECT_EQ(beta, plain_beta);
  EXPECT_EQ(se, plain_se);
  EXPECT_TRUE(plain.jackknife().beta.empty());
  for (int split : {2, 3}) {
    std::vector<Effects> parts(split);
    for (int p = 0; p < split; ++p) {
      EffectAccumulator part(cells, groups, n);
      for (int i = 0; i < n; ++i)
        if ((i / kSampleBlock) % split == p) part.add(d[i].data(), i);
      parts[p].mutants.resize(1);
      parts[p].outputs = {0, 1, 2, 3};
      parts[p].samples = n;
      parts[p].jackknife_groups = groups;
      parts[p].blocks = part.blocks();
      parts[p].segments = part.segments();
    }
    const auto merged = merge_sample_groups(std::move(parts));
    EXPECT_EQ(merged.jackknife.beta, jack.beta) << split;
    EXPECT_EQ(merged.jackknife.se, jack.se) << split;
    EXPECT_EQ(merged.jackknife.sizes, jack.sizes) << split;
  }
  EXPECT_THROW(EffectAccumulator(cells, 6, 5), InternalError);
}

// Pearson's correlation of two series, two-pass (the oracle of Effects::correlation).
double two_pass_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

// Samples d[n][cell] computed as a run split over two devices would (blocks of samples alternating
// between the parts, each keeping its block states, with co-moments of `anchors` outputs), merged.
Effects merged_split_run(const std::vector<std::vector<double>>& d, int mutants, int outputs, int groups, int anchors) {
  const int n = static_cast<int>(d.size());
  const std::size_t cells = static_cast<std::size_t>(mutants) * outputs;
  std::vector<Effects> parts(2);
  for (int p = 0; p < 2; ++p) {
    EffectAccumulator part(cells, groups, n, outputs, anchors);
    for (int i = 0; i < n; ++i)
      if ((i / kSampleBlock) % 2 == p) part.add(d[i].data(), i);
    parts[p].mutants.resize(mutants);
    for (int o = 0; o < outputs; ++o) parts[p].outputs.push_back(o);
    parts[p].samples = n;
    parts[p].jackknife_groups = groups;
    parts[p].with_correlation = true;
    parts[p].correlation_anchors = anchors;
    parts[p].blocks = part.blocks();
    parts[p].segments = part.segments();
  }
  return merge_sample_groups(std::move(parts));
}

// The correlation of every cell with output 0 of its mutant equals the two-pass Pearson correlation
// over the samples, for the whole run, every leave-group-out set and a split run; keeping it changes
// neither beta nor se by a bit; a constant output gives 0.
TEST(EffectAccumulator, CorrelationsWithTheFirstOutputMatchTwoPassPearson) {
  const int mutants = 3, outputs = 3, n = 37, groups = 4;
  const std::size_t cells = mutants * outputs;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<std::vector<double>> d(n, std::vector<double>(cells));
  for (auto& sample : d)
    for (int m = 0; m < mutants; ++m) {
      const double shared = noise(rng);
      sample[m * outputs] = 0.5 + 1e-3 * shared;
      sample[m * outputs + 1] = -0.2 + 1e-3 * (0.8 * shared + 0.6 * noise(rng)) * (m + 1);
      sample[m * outputs + 2] = m == 2 ? 0.125 : 3e-4 * noise(rng);  // mutant 2: a constant output
    }
  EffectAccumulator with(cells, groups, n, outputs), without(cells, groups, n);
  for (int i = 0; i < n; ++i) {
    with.add(d[i].data(), i);
    without.add(d[i].data(), i);
  }
  std::vector<double> beta, se, correlation, plain_beta, plain_se;
  with.finish(beta, se, correlation);
  without.finish(plain_beta, plain_se);
  EXPECT_EQ(beta, plain_beta);
  EXPECT_EQ(se, plain_se);
  const auto expected = [&](std::size_t cell, int left_out_group) {
    std::vector<double> x, y;
    for (int i = 0; i < n; ++i) {
      if (static_cast<long>(i) * groups / n == left_out_group) continue;
      x.push_back(d[i][cell - cell % outputs]);
      y.push_back(d[i][cell]);
    }
    return two_pass_correlation(x, y);
  };
  ASSERT_EQ(correlation.size(), cells);
  for (std::size_t c = 0; c < cells; ++c) {
    if (c == 2 * outputs + 2) {
      EXPECT_EQ(correlation[c], 0.0);
      continue;
    }
    EXPECT_NEAR(correlation[c], expected(c, -1), 1e-12) << c;
  }
  EXPECT_NEAR(correlation[0], 1.0, 1e-15);
  const Jackknife jack = with.jackknife();
  ASSERT_EQ(jack.correlation.size(), static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g)
    for (std::size_t c = 0; c < cells; ++c) {
      if (c != 2 * outputs + 2) {
        EXPECT_NEAR(jack.correlation[g][c], expected(c, g), 1e-12) << g << " " << c;
      }
    }
  EXPECT_TRUE(without.jackknife().correlation.empty());

  const auto merged = merged_split_run(d, mutants, outputs, groups, 1);
  EXPECT_EQ(merged.beta, beta);
  EXPECT_EQ(merged.correlation, correlation);
  EXPECT_EQ(merged.jackknife.correlation, jack.correlation);
}

// Two anchors (a run with two outcomes, the first two outputs): anchor 0's correlations are the
// one-anchor accumulator's bit for bit, anchor 1's are the two-pass Pearson correlation with output
// 1 of each mutant, for the whole run, the leave-group-out sets and a split run.
TEST(EffectAccumulator, CorrelationsWithEachAnchorOutput) {
  const int mutants = 4, outputs = 3, n = 29, groups = 3;
  const std::size_t cells = mutants * outputs;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<std::vector<double>> d(n, std::vector<double>(cells));
  for (auto& sample : d)
    for (int m = 0; m < mutants; ++m) {
      const double shared = noise(rng);
      sample[m * outputs] = 1e-3 * shared;
      sample[m * outputs + 1] = 1e-3 * (0.3 * shared + noise(rng));
      sample[m * outputs + 2] = 1e-3 * (0.7 * shared - 0.5 * sample[m * outputs + 1] * 1e3 + noise(rng));
    }
  EffectAccumulator one(cells, groups, n, outputs, 1), two(cells, groups, n, outputs, 2);
  for (int i = 0; i < n; ++i) {
    one.add(d[i].data(), i);
    two.add(d[i].data(), i);
  }
  std::vector<double> beta, se, first, beta2, se2, both;
  one.finish(beta, se, first);
  two.finish(beta2, se2, both);
  EXPECT_EQ(beta, beta2);
  EXPECT_EQ(se, se2);
  ASSERT_EQ(both.size(), 2 * cells);
  EXPECT_EQ(std::vector<double>(both.begin(), both.begin() + static_cast<std::ptrdiff_t>(cells)), first);
  const auto expected = [&](std::size_t cell, int left_out_group) {
    std::vector<double> x, y;
    for (int i = 0; i < n; ++i) {
      if (static_cast<long>(i) * groups / n == left_out_group) continue;
      x.push_back(d[i][cell - cell % outputs + 1]);
      y.push_back(d[i][cell]);
    }
    return two_pass_correlation(x, y);
  };
  for (std::size_t c = 0; c < cells; ++c) EXPECT_NEAR(both[cells + c], expected(c, -1), 1e-12) << c;
  EXPECT_NEAR(both[cells + 1], 1.0, 1e-15);  // output 1 with itself
  const Jackknife jack = two.jackknife();
  ASSERT_EQ(jack.correlation.size(), static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g)
    for (std::size_t c = 0; c < cells; ++c) EXPECT_NEAR(jack.correlation[g][cells + c], expected(c, g), 1e-12);
  const auto merged = merged_split_run(d, mutants, outputs, groups, 2);
  EXPECT_EQ(merged.correlation, both);
  EXPECT_EQ(merged.jackknife.correlation, jack.correlation);
  EXPECT_THROW(EffectAccumulator(cells, 0, n, outputs, 4), InternalError);
}

// Without keep_blocks each complete block and segment is merged at once, in the order a finish
// merges the kept ones: the same beta, se, correlations and leave-group-out effects, bit for bit,
// for any N (here not a multiple of the block) and groups, holding one block and one segment.
TEST(EffectAccumulator, StreamingMergeGivesTheKeptBlocksBits) {
  const int mutants = 5, outputs = 3;
  const std::size_t cells = mutants * outputs;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (const auto& [n, groups, anchors] : {std::tuple{45, 4, 2}, std::tuple{8, 0, 1}, std::tuple{77, 10, 1}}) {
    EffectAccumulator kept(cells, groups, n, outputs, anchors), streamed(cells, groups, n, outputs, anchors, false);
    for (int i = 0; i < n; ++i) {
      std::vector<double> d(cells);
      for (auto& v : d) v = 1e-3 * noise(rng) + (i % 3) * 1e-4;
      kept.add(d.data(), i);
      streamed.add(d.data(), i);
      EXPECT_LE(streamed.blocks().size(), 1u);
      EXPECT_LE(streamed.segments().size(), 1u);
    }
    std::vector<double> beta, se, correlation, beta2, se2, correlation2, plain_beta, plain_se;
    kept.finish(beta, se, correlation);
    streamed.finish(beta2, se2, correlation2);
    streamed.finish(plain_beta, plain_se);
    EXPECT_EQ(beta, beta2) << n;
    EXPECT_EQ(se, se2) << n;
    EXPECT_EQ(correlation, correlation2) << n;
    EXPECT_EQ(plain_beta, beta);
    EXPECT_EQ(plain_se, se);
    const auto a = kept.jackknife(), b = streamed.jackknife();
    EXPECT_EQ(a.sizes, b.sizes) << n;
    EXPECT_EQ(a.beta, b.beta) << n;
    EXPECT_EQ(a.se, b.se) << n;
    EXPECT_EQ(a.correlation, b.correlation) << n;
  }
}

}  // namespace
}  // namespace deepmr::ism
