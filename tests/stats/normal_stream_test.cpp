// Normal draws from Philox: a pure function of (seed, stream), and normally distributed (moments,
// a fine-binned goodness of fit, and the ziggurat's tail beyond r = 3.4426).
#include "deepmr/stats/normal_stream.hpp"

#include "deepmr/common/philox_blocks.hpp"

#include <gtest/gtest.h>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace deepmr::stats {
namespace {

TEST(NormalStream, IsAPureFunctionOfSeedAndStream) {
  NormalStream a(42, 7), b(42, 7), other_seed(43, 7), other_stream(42, 8);
  std::vector<double> filled(1000);
  NormalStream c(42, 7);
  c.fill(filled.data(), filled.size());
  int differ_seed = 0, differ_stream = 0;
  for (int i = 0; i < 1000; ++i) {
    const double x = a();
    EXPECT_EQ(x, b());
    EXPECT_EQ(x, filled[static_cast<std::size_t>(i)]);
    differ_seed += x != other_seed();
    differ_stream += x != other_stream();
  }
  EXPECT_GT(differ_seed, 990);
  EXPECT_GT(differ_stream, 990);
}

// The SIMD forms of Philox's blocks give the scalar draws bit for bit:
// 300,000 draws in uneven batches (the slow path's words among them), against one scalar stream.
TEST(NormalStream, EveryInstructionSetDrawsTheSameNumbers) {
  const std::size_t batches[] = {3000, 7, 1, 64, 255, 4096, 13};
  std::vector<double> expected;
  set_philox_active_isa(PhiloxIsa::scalar);
  NormalStream reference(99, 3);
  for (int i = 0; i < 300000; ++i) expected.push_back(reference());
  for (const PhiloxIsa isa : {PhiloxIsa::scalar, PhiloxIsa::avx2, PhiloxIsa::avx512}) {
    if (!philox_isa_supported(isa)) continue;
    set_philox_active_isa(isa);
    NormalStream s(99, 3);
    std::vector<double> drawn;
    for (std::size_t b = 0; drawn.size() < expected.size(); ++b) {
      std::vector<double> batch(std::min(batches[b % 7], expected.size() - drawn.size()));
      s.fill(batch.data(), batch.size());
      drawn.insert(drawn.end(), batch.begin(), batch.end());
    }
    std::size_t differing = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) differing += std::memcmp(&drawn[i], &expected[i], sizeof(double)) != 0;
    EXPECT_EQ(differing, 0u) << philox_isa_name(isa);
  }
  set_philox_active_isa(philox_best_isa());
}

// The parallel form (bootstrap_draws.cpp): ranges converted by the fast path in any order, from
// uneven starts, and the misses finished in position order give fill()'s values bit for bit.
TEST(NormalStream, RangesInAnyOrderGiveTheFilledValues) {
  constexpr std::size_t n = 400000;
  std::vector<double> expected(n);
  NormalStream(77, 5).fill(expected.data(), n);
  const std::size_t starts[] = {0, 1, 3, 4, 1001, 65535, 65536, 123457, 250003, 399999, n};
  const std::size_t ranges = sizeof starts / sizeof starts[0] - 1;
  NormalStream stream(77, 5);
  std::vector<double> drawn(n);
  std::vector<std::vector<NormalStream::Miss>> misses(ranges);
  for (std::size_t r = ranges; r-- > 0;)  // last range first, as another thread might
    stream.fast_draws(starts[r], starts[r + 1] - starts[r], drawn.data() + starts[r], misses[r]);
  std::size_t missed = 0, tails = 0;
  for (const auto& range : misses)
    for (const auto& miss : range) {
      drawn[miss.position] = stream.finish_miss(miss);
      ++missed;
      tails += (miss.word & 0x7Fu) == 0;
    }
  EXPECT_GT(missed, n / 200);  // about 1% leave the fast path
  EXPECT_GT(tails, 0u);        // among them the tail beyond r
  std::size_t differing = 0;
  for (std::size_t i = 0; i < n; ++i) differing += std::memcmp(&drawn[i], &expected[i], sizeof(double)) != 0;
  EXPECT_EQ(differing, 0u);
}

TEST(NormalStream, FirstDrawsAreFrozen) {
  // Stores written by one build must be reproducible by the next: these values may never change.
  // They were checked against an independent Python transcription of Philox4x32-10 and the
  // ziggurat's fast path (words taken high half first from PhiloxStream's 64-bit outputs).
  NormalStream s(314159265, 0);
  const double expected[] = {0x1.263c0e263b9e8p-2, -0x1.d38c668cad341p-4, 0x1.c1f32d4845801p-2,
                             -0x1.2f900d645cdcbp+1, 0x1.38814ee32e57dp+0,  0x1.4e17713885d60p-2};
  for (double x : expected) EXPECT_EQ(s(), x);
  EXPECT_EQ(unit_seed(1, 2, 3), 17313498648876036326ull);
}

TEST(NormalStream, HasStandardNormalMomentsAndShape) {
  constexpr std::size_t n = 4'000'000;
  NormalStream s(2024, 1);
  std::vector<double> x(n);
  s.fill(x.data(), n);
  double sum = 0, squares = 0, cubes = 0, fourths = 0;
  std::size_t beyond_tail = 0;
  constexpr int bins = 80;  // equal-probability bins
  std::vector<std::size_t> counts(bins, 0);
  const boost::math::normal_distribution<double> standard;
  for (double v : x) {
    sum += v;
    squares += v * v;
    cubes += v * v * v;
    fourths += v * v * v * v;
    beyond_tail += std::fabs(v) > 3.442619855899;
    const auto bin = static_cast<int>(boost::math::cdf(standard, v) * bins);
    ++counts[static_cast<std::size_t>(std::min(bin, bins - 1))];
  }
  const double dn = static_cast<double>(n);
  EXPECT_NEAR(sum / dn, 0, 4 / std::sqrt(dn));
  EXPECT_NEAR(squares / dn, 1, 4 * std::sqrt(2 / dn));
  EXPECT_NEAR(cubes / dn, 0, 4 * std::sqrt(15 / dn));
  EXPECT_NEAR(fourths / dn, 3, 4 * std::sqrt(96 / dn));
  const double tail_p = 2 * boost::math::cdf(boost::math::complement(standard, 3.442619855899));
  EXPECT_NEAR(static_cast<double>(beyond_tail), tail_p * dn, 5 * std::sqrt(tail_p * dn));
  double chi2 = 0;
  const double expected = dn / bins;
  for (std::size_t c : counts) chi2 += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  const double p = boost::math::cdf(boost::math::complement(boost::math::chi_squared_distribution<double>(bins - 1), chi2));
  EXPECT_GT(p, 1e-4) << "chi-squared " << chi2;
}

TEST(NormalStream, UnitSeedsAreDistinctAndStable) {
  EXPECT_EQ(unit_seed(1, 2, 3), unit_seed(1, 2, 3));
  EXPECT_NE(unit_seed(1, 2, 3), unit_seed(1, 3, 2));
  EXPECT_NE(unit_seed(1, 2, 3), unit_seed(2, 2, 3));
  EXPECT_NE(unit_seed(1, 0, 0), unit_seed(1, 0, 1));
}

}  // namespace
}  // namespace deepmr::stats
