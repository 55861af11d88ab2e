// The grouped jackknife (stats/jackknife.hpp) against closed forms: for the sample mean, the
// delete-1 jackknife SE is s / sqrt(n), and each delete-m_g pseudo-value is the left-out group's
// own mean, so the variance is (1 / G) sum_g (mean_g - mean)^2 / (N / m_g - 1).
#include <cmath>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "deepmr/stats/jackknife.hpp"

namespace deepmr::stats {
namespace {

double mean_of(const std::vector<double>& x, std::size_t skip_first, std::size_t skip_count) {
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (i < skip_first || i >= skip_first + skip_count) sum += x[i], ++n;
  return sum / static_cast<double>(n);
}

const std::vector<double> kData = {0.31, -1.2, 2.5, 0.07, 1.9, -0.44, 0.8, 3.1, -2.2, 0.5, 1.1};

TEST(Jackknife, DeleteOneOfTheMeanIsTheStandardErrorOfTheMean) {
  const std::size_t n = kData.size();
  const double mean = mean_of(kData, 0, 0);
  std::vector<double> leave_out, sizes(n, 1.0);
  for (std::size_t i = 0; i < n; ++i) leave_out.push_back(mean_of(kData, i, 1));
  double ss = 0;
  for (double x : kData) ss += (x - mean) * (x - mean);
  const double expected = std::sqrt(ss / static_cast<double>(n - 1)) / std::sqrt(static_cast<double>(n));
  const auto se = grouped_jackknife_se(mean, leave_out, sizes);
  ASSERT_TRUE(se);
  EXPECT_NEAR(*se, expected, 1e-14);
}

TEST(Jackknife, UnequalGroupsOfTheMeanFollowTheLeftOutGroupsMeans) {
  const std::vector<double> sizes = jackknife_group_sizes(static_cast<int>(kData.size()), 3);
  ASSERT_EQ(sizes, (std::vector<double>{4, 4, 3}));  // n * 3 / 11: 0-3, 4-7, 8-10
  const double mean = mean_of(kData, 0, 0), n = static_cast<double>(kData.size());
  std::vector<double> leave_out;
  double variance = 0;
  std::size_t first = 0;
  for (double m : sizes) {
    const auto count = static_cast<std::size_t>(m);
    leave_out.push_back(mean_of(kData, first, count));
    double group = 0;
    for (std::size_t i = first; i < first + count; ++i) group += kData[i];
    group /= m;
    variance += (group - mean) * (group - mean) / (n / m - 1);
    first += count;
  }
  const auto se = grouped_jackknife_se(mean, leave_out, sizes);
  ASSERT_TRUE(se);
  EXPECT_NEAR(*se, std::sqrt(variance / 3), 1e-14);
}

TEST(Jackknife, EqualLeaveOutEstimatesHaveNoSpread) {
  const auto se = grouped_jackknife_se(0.25, {0.25, 0.25, 0.25, 0.25}, {5, 5, 5, 5});
  ASSERT_TRUE(se);
  EXPECT_EQ(*se, 0.0);
}

TEST(Jackknife, TooFewGroupsOrNonFiniteValuesGiveNothing) {
  EXPECT_FALSE(grouped_jackknife_se(1.0, {1.0}, {3}));
  EXPECT_FALSE(grouped_jackknife_se(1.0, {1.0, NAN}, {3, 3}));
  EXPECT_FALSE(grouped_jackknife_se(NAN, {1.0, 2.0}, {3, 3}));
  EXPECT_FALSE(grouped_jackknife_se(1.0, {1.0, 2.0}, {3, 0}));
  EXPECT_FALSE(grouped_jackknife_se(1.0, {1.0, 2.0}, {3}));
}

TEST(Jackknife, GroupSizesAreContiguousAndAsEqualAsPossible) {
  EXPECT_EQ(jackknife_group_sizes(10, 3), (std::vector<double>{4, 3, 3}));
  EXPECT_EQ(jackknife_group_sizes(50, 10), std::vector<double>(10, 5));
  EXPECT_EQ(jackknife_group_sizes(7, 7), std::vector<double>(7, 1));
}

TEST(Jackknife, IntervalAndPValueAreWaldOnTheJackknifeSeScaledBySqrtN) {
  MrResult fit;
  fit.estimable = true;
  fit.estimate = 0.4;
  std::vector<MrResult> leave_out(4);
  const double values[] = {0.38, 0.43, 0.41, 0.37};
  for (int g = 0; g < 4; ++g) {
    leave_out[g].estimable = true;
    leave_out[g].estimate = values[g];
  }
  MrOptions options;
  add_jackknife(fit, leave_out, {2, 2, 2, 2}, options);
  const double mean = (0.38 + 0.43 + 0.41 + 0.37) / 4;
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double se = std::sqrt(8.0) * std::sqrt(0.75 * ss);  // on the standard SE's scale: sqrt(N = 8) x
  ASSERT_TRUE(fit.se_jackknife);
  EXPECT_NEAR(*fit.se_jackknife, se, 1e-15);
  EXPECT_NEAR(*fit.ci_low_jackknife, 0.4 - 1.959963984540054 * se, 1e-14);
  EXPECT_NEAR(*fit.ci_high_jackknife, 0.4 + 1.959963984540054 * se, 1e-14);
  EXPECT_NEAR(*fit.pvalue_jackknife, std::erfc(0.4 / se / std::sqrt(2.0)), 1e-14);
  EXPECT_FALSE(fit.se);  // the standard columns are not touched

  MrResult not_estimable = fit;
  not_estimable.se_jackknife.reset();
  leave_out[2].estimable = false;
  add_jackknife(not_estimable, leave_out, {2, 2, 2, 2}, options);
  EXPECT_FALSE(not_estimable.se_jackknife);
}

}  // namespace
}  // namespace deepmr::stats
