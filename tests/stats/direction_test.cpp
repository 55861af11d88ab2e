// The direction test (stats/direction.hpp) against closed forms: the shares of a mediated pair,
// their order under either direction, invariance to the order and orientation of the instruments,
// the strength filter, what is not estimable, and its jackknife SE.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "deepmr/stats/direction.hpp"
#include "deepmr/stats/jackknife.hpp"

namespace deepmr::stats {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// x mediates: by = gamma bx, byse^2 = gamma^2 bxse^2 + s^2.
Instruments mediated(double gamma, double s) {
  Instruments in;
  const double bx[] = {0.8, -0.3, 0.05, 1.2, -0.6, 0.0};
  const double bxse[] = {0.2, 0.1, 0.3, 0.4, 0.05, 0.1};
  for (int i = 0; i < 6; ++i)
    in.push_back(bx[i], bxse[i], gamma * bx[i], std::sqrt(gamma * gamma * bxse[i] * bxse[i] + s * s));
  return in;
}

TEST(Direction, SharesAreTheClosedFormsAndAMediatorCarriesTheLargerOne) {
  const auto in = mediated(0.5, 0.07);
  double bx2 = 0, bxse2 = 0, by2 = 0, byse2 = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    bx2 += in.bx[i] * in.bx[i];
    bxse2 += in.bxse[i] * in.bxse[i];
    by2 += in.by[i] * in.by[i];
    byse2 += in.byse[i] * in.byse[i];
  }
  const auto r = direction_test(in);
  ASSERT_TRUE(r.estimable);
  EXPECT_EQ(r.n_used, 6u);
  EXPECT_NEAR(*r.r2_exposure, bx2 / (bx2 + bxse2), 1e-15);
  EXPECT_NEAR(*r.r2_outcome, by2 / (by2 + byse2), 1e-15);
  // gamma^2 cancels in r2_y but for the outcome's own noise: r2_y < r2_x.
  EXPECT_NEAR(*r.r2_outcome, 0.25 * bx2 / (0.25 * bx2 + 0.25 * bxse2 + 6 * 0.07 * 0.07), 1e-15);
  EXPECT_GT(*r.difference, 0);
  EXPECT_EQ(*r.difference, *r.r2_exposure - *r.r2_outcome);
  EXPECT_FALSE(r.se);  // only the jackknife gives one

  // The same pair the other way round (y mediates): the difference changes sign.
  Instruments swapped;
  for (std::size_t i = 0; i < in.size(); ++i) swapped.push_back(in.by[i], in.byse[i], in.bx[i], in.bxse[i]);
  const auto back = direction_test(swapped);
  EXPECT_LT(*back.difference, 0);
  EXPECT_NEAR(*back.difference, -*r.difference, 1e-15);

  // Without noise of its own, y carries the same share as x: no direction.
  EXPECT_NEAR(*direction_test(mediated(-2.0, 0.0)).difference, 0.0, 1e-15);
}

TEST(Direction, OrderAndOrientationOfTheInstrumentsChangeNoBit) {
  const auto in = mediated(0.5, 0.07);
  Instruments shuffled;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t i = (k * 5 + 2) % in.size();
    const double sign = k % 2 ? -1 : 1;
    shuffled.push_back(sign * in.bx[i], in.bxse[i], sign * in.by[i], in.byse[i]);
  }
  const auto a = direction_test(in), b = direction_test(shuffled);
  EXPECT_TRUE(same_bits(*a.r2_exposure, *b.r2_exposure));
  EXPECT_TRUE(same_bits(*a.r2_outcome, *b.r2_outcome));
  EXPECT_TRUE(same_bits(*a.difference, *b.difference));
}

TEST(Direction, UsesTheInstrumentsMrUses) {
  auto in = mediated(0.5, 0.07);
  const auto before = direction_test(in);
  in.push_back(0, 0, 0, 0);      // no information: dropped
  in.push_back(0, 0, 0.4, 0.3);  // moves the outcome but not the exposure: not the exposure's instrument
  const auto after = direction_test(in);
  EXPECT_EQ(after.n_used, 6u);
  EXPECT_EQ(*after.difference, *before.difference);
  // |bx / bxse| >= 2 keeps 0.8/0.2, -0.3/0.1, 1.2/0.4, -0.6/0.05.
  const auto strong = direction_test(in, 2.0);
  EXPECT_EQ(strong.n_used, 4u);
  const double bx2 = 0.64 + 0.09 + 1.44 + 0.36, bxse2 = 0.04 + 0.01 + 0.16 + 0.0025;
  EXPECT_NEAR(*strong.r2_exposure, bx2 / (bx2 + bxse2), 1e-15);
}

TEST(Direction, NotEstimableWithoutVariation) {
  Instruments flat;
  flat.push_back(0.1, 0.01, 0, 0);
  flat.push_back(0.2, 0.02, 0, 0);
  const auto r = direction_test(flat);
  EXPECT_FALSE(r.estimable);
  EXPECT_NE(r.reason.find("outcome does not move"), std::string::npos);
  Instruments still;
  still.push_back(0, 0, 0.1, 0.01);
  EXPECT_EQ(direction_test(still).reason, "no instrument moves the exposure");
  EXPECT_FALSE(direction_test(Instruments{}).estimable);
  Instruments bad;
  bad.push_back(NAN, 0.1, 0.1, 0.1);
  EXPECT_FALSE(direction_test(bad).estimable);
}

TEST(Direction, JackknifeSeIsTheGroupedJackknifeOfTheDifferences) {
  auto r = direction_test(mediated(0.5, 0.07));
  std::vector<DirectionResult> leave_out;
  std::vector<double> differences;
  for (double gamma : {0.45, 0.55, 0.5, 0.52}) {
    leave_out.push_back(direction_test(mediated(gamma, 0.07 + gamma / 100)));
    differences.push_back(*leave_out.back().difference);
  }
  const std::vector<double> sizes = {3, 3, 2, 2};
  add_direction_jackknife(r, leave_out, sizes);
  ASSERT_TRUE(r.se);
  EXPECT_EQ(*r.se, *grouped_jackknife_se(*r.difference, differences, sizes));  // not rescaled by sqrt(N)
  EXPECT_EQ(*r.z, *r.difference / *r.se);
  EXPECT_NEAR(*r.pvalue, std::erfc(std::abs(*r.z) / std::sqrt(2.0)), 1e-14);
  // One group not estimable: no SE.
  auto again = direction_test(mediated(0.5, 0.07));
  leave_out[1] = DirectionResult{};
  add_direction_jackknife(again, leave_out, sizes);
  EXPECT_FALSE(again.se);
  EXPECT_TRUE(std::isnan(column_values(again)[3]));
  EXPECT_EQ(column_values(again)[6], 6.0);
}

}  // namespace
}  // namespace deepmr::stats
