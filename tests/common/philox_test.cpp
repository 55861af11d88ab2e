#include "deepmr/common/philox.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "deepmr/common/philox_blocks.hpp"

namespace deepmr {
namespace {

// Known-answer vectors of Random123's tests/kat_vectors, the "philox4x32 10" lines.
TEST(Philox, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}), (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, StreamsAreReproducibleAndDistinct) {
  PhiloxStream a(42, 7), b(42, 7), c(42, 8), d(43, 7);
  for (int i = 0; i < 10; ++i) {
    auto x = a();
    EXPECT_EQ(x, b());
    EXPECT_NE(x, c());
    EXPECT_NE(x, d());
  }
}

TEST(Philox, UniformsHaveTheRightMoments) {
  PhiloxStream s(1, 0);
  const int n = 200000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = s.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
  EXPECT_EQ(unit_float(0xffffffffu) < 1.0f, true);
  EXPECT_EQ(unit_double(0xffffffffu, 0xffffffffu) < 1.0, true);
}

}  // namespace
}  // namespace deepmr

namespace deepmr {
namespace {

// Every instruction set's blocks are philox4x32_10's, bit for bit: random keys and stream words,
// counts that are not multiples of the vector width, and counters that carry into the high word.
TEST(PhiloxBlocks, EveryInstructionSetGivesTheScalarWords) {
  std::mt19937_64 rng(2011);
  const std::uint64_t firsts[] = {0, 7, 0xFFFFFFF0ull, (std::uint64_t{1} << 63) - 5, ~std::uint64_t{0} - 20};
  int checked_isas = 0;
  for (const PhiloxIsa isa : {PhiloxIsa::scalar, PhiloxIsa::avx2, PhiloxIsa::avx512}) {
    if (!philox_isa_supported(isa)) continue;
    ++checked_isas;
    for (const std::uint64_t first : firsts)
      for (const std::size_t count : {std::size_t{1}, std::size_t{8}, std::size_t{16}, std::size_t{37}, std::size_t{64}}) {
        const PhiloxKey key{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
        const auto c2 = static_cast<std::uint32_t>(rng()), c3 = static_cast<std::uint32_t>(rng());
        std::vector<std::uint32_t> words(4 * count, 0);
        philox_blocks(first, c2, c3, key, count, words.data(), isa);
        for (std::size_t b = 0; b < count; ++b) {
          const std::uint64_t counter = first + b;
          const PhiloxCounter expected = philox4x32_10(
              {static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), c2, c3}, key);
          for (std::size_t j = 0; j < 4; ++j)
            ASSERT_EQ(words[4 * b + j], expected[j])
                << philox_isa_name(isa) << " first " << first << " block " << b << " word " << j;
        }
      }
  }
  EXPECT_GE(checked_isas, 1);
  EXPECT_EQ(philox_isa_supported(philox_best_isa()), true);
}

}  // namespace
}  // namespace deepmr
