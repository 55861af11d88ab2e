#include "deepmr/common/philox.hpp"

#include <gtest/gtest.h>

#include <cmath>

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
