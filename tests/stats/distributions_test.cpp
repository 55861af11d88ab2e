// The distributions behind intervals and p-values, against R's qnorm, qt, pnorm, pt and pchisq.
#include "deepmr/stats/distributions.hpp"

#include <gtest/gtest.h>

#include "deepmr/common/error.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

TEST(Distributions, QuantilesAndTailsMatchR) {
  EXPECT_REL(normal_critical_value(0.95), 1.959963984540054, 1e-14);   // qnorm(0.975)
  EXPECT_REL(t_critical_value(0.95, 27), 2.051830516480284, 1e-13);   // qt(0.975, 27)
  EXPECT_REL(t_critical_value(0.95, 1), 12.70620473617471, 1e-13);    // qt(0.975, 1)
  EXPECT_REL(normal_two_sided_p(1.959963984540054), 0.05, 1e-13);
  EXPECT_REL(t_two_sided_p(2.051830516480284, 27), 0.05, 1e-12);
  EXPECT_REL(chi_squared_upper_p(3.841458820694124, 1), 0.05, 1e-12);  // qchisq(0.95, 1)
  EXPECT_EQ(normal_two_sided_p(INFINITY), 0);
  EXPECT_REL(normal_two_sided_p(30), 9.813427854295816e-198, 1e-10);  // 2 * pnorm(-30): from the upper tail, not 1 - cdf
}

TEST(Distributions, WaldSummaryOfAZeroSeIsDefined) {
  const WaldSummary s = wald_summary(1.5, 0, Distribution::normal, 0, 0.95);
  EXPECT_EQ(s.ci_low, 1.5);
  EXPECT_EQ(s.pvalue, 0);
  EXPECT_EQ(wald_summary(0, 0, Distribution::normal, 0, 0.95).pvalue, 1);
}

TEST(Distributions, NamesParse) {
  EXPECT_EQ(parse_distribution("normal"), Distribution::normal);
  EXPECT_EQ(parse_distribution("t"), Distribution::t);
  EXPECT_THROW(parse_distribution("t-dist"), UsageError);
  EXPECT_EQ(distribution_name(Distribution::t), "t");
}

}  // namespace
}  // namespace deepmr::stats
