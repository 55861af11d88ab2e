// The seeded sampler: unbiased, deterministic, and pinned (golden values) so that a plan made by
// one release is made again by the next.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "deepmr/genome/region_sampling.hpp"

namespace deepmr::genome {
namespace {

auto all_usable = [](std::size_t) { return true; };

TEST(Sampling, StreamIdIsFnv1aOfTheName) {
  // python: h = 0xcbf29ce484222325; for c in b'regions/ATF3': h = ((h ^ c) * 0x100000001b3) % 2**64
  EXPECT_EQ(sampling_stream_id("ATF3"), 0x237939c18fbcc8d5ull);
  EXPECT_NE(sampling_stream_id("ATF3"), sampling_stream_id("ATF4"));
}

TEST(Sampling, UniformBelowIsInRangeAndFlat) {
  PhiloxStream rng(3, 4);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(uniform_below(rng, 1), 0u);
  std::map<std::uint64_t, int> counts;
  for (int i = 0; i < 100000; ++i) ++counts[uniform_below(rng, 10)];
  ASSERT_EQ(counts.size(), 10u);
  for (const auto& [value, n] : counts) {
    EXPECT_LT(value, 10u);
    EXPECT_NEAR(n, 10000, 500) << value;  // about 5 standard deviations
  }
  const std::uint64_t huge = (std::uint64_t{1} << 63) + 12345;  // rejection matters most here
  for (int i = 0; i < 1000; ++i) EXPECT_LT(uniform_below(rng, huge), huge);
}

TEST(Sampling, GoldenSampleForSeedOneAndAtf3) {
  // Changing this changes every user's plan: only on purpose, with a note in docs/genome.md.
  PhiloxStream rng(1, sampling_stream_id("ATF3"));
  SamplingCounts counts;
  const auto picks = sample_usable(1000, 5, rng, all_usable, counts);
  EXPECT_EQ(picks, (std::vector<std::size_t>{25, 161, 290, 478, 904}));
  EXPECT_EQ(counts.examined, 5u);
  EXPECT_EQ(counts.rejected, 0u);
}

TEST(Sampling, SameSeedSameSampleAnotherSeedAnother) {
  auto draw = [](std::uint64_t seed) {
    PhiloxStream rng(seed, sampling_stream_id("SRF"));
    SamplingCounts counts;
    return sample_usable(5000, 25, rng, all_usable, counts);
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
  const auto picks = draw(7);
  EXPECT_EQ(picks.size(), 25u);
  EXPECT_TRUE(std::is_sorted(picks.begin(), picks.end()));
  EXPECT_EQ(std::set<std::size_t>(picks.begin(), picks.end()).size(), 25u);
}

TEST(Sampling, UnusableCandidatesAreSkippedAndCounted) {
  PhiloxStream rng(1, 2);
  SamplingCounts counts;
  const auto picks = sample_usable(100, 10, rng, [](std::size_t i) { return i % 3 == 0; }, counts);
  ASSERT_EQ(picks.size(), 10u);
  for (auto i : picks) EXPECT_EQ(i % 3, 0u);
  EXPECT_EQ(counts.examined - counts.rejected, 10u);
  EXPECT_GT(counts.rejected, 0u);
  // Fewer usable than wanted: every one of them, each tested once.
  SamplingCounts all;
  const auto few = sample_usable(10, 8, rng, [](std::size_t i) { return i < 3; }, all);
  EXPECT_EQ(few, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(all.examined, 10u);
  EXPECT_EQ(all.rejected, 7u);
}

TEST(Sampling, WantedZeroKeepsEveryUsableInOrder) {
  PhiloxStream rng(1, 2);
  SamplingCounts counts;
  const auto picks = sample_usable(6, 0, rng, [](std::size_t i) { return i != 4; }, counts);
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 3, 5}));
  EXPECT_EQ(counts.examined, 6u);
  EXPECT_EQ(counts.rejected, 1u);
  EXPECT_TRUE(sample_usable(0, 5, rng, all_usable, counts).empty());
}

TEST(Sampling, EveryCandidateIsEquallyLikely) {
  std::vector<int> hits(20, 0);
  for (std::uint64_t seed = 0; seed < 4000; ++seed) {
    PhiloxStream rng(seed, 99);
    SamplingCounts counts;
    for (auto i : sample_usable(20, 5, rng, all_usable, counts)) ++hits[i];
  }
  for (int h : hits) EXPECT_NEAR(h, 1000, 130);  // binomial sd about 27
}

}  // namespace
}  // namespace deepmr::genome
