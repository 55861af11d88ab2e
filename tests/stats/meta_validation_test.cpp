// Random-effects meta-analysis against metafor 3.8-1 (rma.uni) on three classic data sets: every
// number of tests/data/validation/README.md's meta-analysis tables.
#include <gtest/gtest.h>

#include "deepmr/stats/meta_analysis.hpp"
#include "stats_test_support.hpp"

namespace deepmr::stats {
namespace {

constexpr double kTight = 1e-8;
constexpr double kPauleMandel = 1e-4;  // metafor's uniroot stops within about 1e-4; we solve exactly

struct Data {
  std::vector<double> y, v, se;
};

Data load(const std::string& name) {
  auto c = test::read_columns(test::validation_file("meta/" + name + ".tsv"));
  return {c["estimate"], c["variance"], c["se"]};
}

MetaResult fit(const Data& d, Tau2Method method, bool knha = false) {
  MetaOptions options;
  options.tau2_method = method;
  options.knha = knha;
  MetaResult r = meta_analysis_variances(d.y, d.v, options);
  EXPECT_TRUE(r.estimable) << r.reason;
  return r;
}

struct Row {
  Tau2Method method;
  double tau2, mu, se;
  std::optional<double> i2, h2;
};

TEST(MetaValidation, BcgEveryTau2Estimator) {
  const Data bcg = load("bcg_log_rr");
  const std::vector<Row> rows{
      {Tau2Method::fe, 0, -0.430285163654, 0.0404987517109, 92.1173468546, 12.6860840069},
      {Tau2Method::dl, 0.308760262862, -0.714117222073, 0.178742089535, 92.1173468546, 12.6860840069},
      {Tau2Method::reml, 0.313243325981, -0.714532348365, 0.17978153178, 92.221386075, 12.8557608031},
      {Tau2Method::he, 0.328563857996, -0.715878588759, 0.183279985989, {}, {}},
      {Tau2Method::sj, 0.345515701599, -0.717248592558, 0.187059458416, {}, {}},
      {Tau2Method::ml, 0.28002817105, -0.71119913919, 0.171896817023, {}, {}},
      {Tau2Method::eb, 0.318068515771, -0.714968159161, 0.180892206115, {}, {}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(tau2_method_name(row.method));
    const MetaResult r = fit(bcg, row.method);
    EXPECT_EQ(r.k, 13u);
    if (row.tau2 == 0) {
      EXPECT_EQ(*r.tau2, 0.0);
    } else {
      EXPECT_REL(r.tau2, row.tau2, kTight);
    }
    EXPECT_REL(r.tau, std::sqrt(row.tau2), kTight);
    EXPECT_REL(r.estimate, row.mu, kTight);
    EXPECT_REL(r.se, row.se, kTight);
    if (row.i2) {
      EXPECT_REL(r.i2, *row.i2, kTight);
    }
    if (row.h2) {
      EXPECT_REL(r.h2, *row.h2, kTight);
    }
    EXPECT_REL(r.q, 152.233008082, kTight);
    EXPECT_EQ(r.q_df, 12);
  }
}

TEST(MetaValidation, BcgPauleMandelToMetaforsTolerance) {
  const MetaResult r = fit(load("bcg_log_rr"), Tau2Method::pm);
  EXPECT_REL(r.tau2, 0.318093711863, kPauleMandel);
  EXPECT_REL(r.estimate, -0.714970405632, kPauleMandel);
  EXPECT_REL(r.se, 0.180897984126, kPauleMandel);
  EXPECT_REL(r.i2, 92.3309002899, kPauleMandel);
  EXPECT_REL(r.h2, 13.0393401807, kPauleMandel);
  // Solved exactly, PM sits where Q(tau^2) = k - 1, which empirical Bayes also converges to.
  EXPECT_REL(r.tau2, 0.318068515771, 1e-4);
}

TEST(MetaValidation, BcgDerSimonianLairdIntervals) {
  const MetaResult r = fit(load("bcg_log_rr"), Tau2Method::dl);
  EXPECT_REL(r.ci_low, -1.06444528008, kTight);
  EXPECT_REL(r.ci_high, -0.363789164062, kTight);
  EXPECT_REL(r.pi_low, -1.85815375273, kTight);
  EXPECT_REL(r.pi_high, 0.429919308586, kTight);
  EXPECT_FALSE(r.df.has_value());
  EXPECT_LT(*r.q_pvalue, 1e-20);
}

TEST(MetaValidation, BcgKnappHartung) {
  const Data bcg = load("bcg_log_rr");
  const MetaResult dl = fit(bcg, Tau2Method::dl, true);
  EXPECT_REL(dl.estimate, -0.714117222073, kTight);
  EXPECT_REL(dl.se, 0.180696628336, kTight);
  EXPECT_REL(dl.ci_low, -1.10782135417, kTight);
  EXPECT_REL(dl.ci_high, -0.320413089978, kTight);
  EXPECT_REL(dl.pi_low, -1.98720696343, kTight);
  EXPECT_REL(dl.pi_high, 0.558972519284, kTight);
  EXPECT_EQ(dl.df, 12);
  EXPECT_REL(fit(bcg, Tau2Method::reml, true).se, 0.180791745519, kTight);
}

TEST(MetaValidation, Clasp) {
  const Data clasp = load("clasp");
  const MetaResult dl = fit(clasp, Tau2Method::dl);
  EXPECT_REL(dl.tau2, 0.05396629942, kTight);
  EXPECT_REL(dl.estimate, -0.323996823786, kTight);
  EXPECT_REL(dl.se, 0.154005056819, kTight);
  const MetaResult reml = fit(clasp, Tau2Method::reml);
  EXPECT_REL(reml.tau2, 0.0339592788875, kTight);
  EXPECT_REL(reml.estimate, -0.298037802457, kTight);
  EXPECT_REL(reml.se, 0.13433002903, kTight);
  const MetaResult pm = fit(clasp, Tau2Method::pm);
  EXPECT_REL(pm.tau2, 0.13547450326, kPauleMandel);
  EXPECT_REL(pm.estimate, -0.381062025636, kPauleMandel);
  // ML creeps towards 0 by Fisher scoring with step halving; metafor stops at this value.
  const MetaResult ml = fit(clasp, Tau2Method::ml);
  EXPECT_REL(ml.tau2, 5.20998455712e-06, kTight);
  EXPECT_REL(ml.estimate, -0.197382673022, kTight);
}

TEST(MetaValidation, Raudenbush1985) {
  const Data teachers = load("raudenbush1985");
  const MetaResult dl = fit(teachers, Tau2Method::dl);
  EXPECT_REL(dl.tau2, 0.0259036722998, kTight);
  EXPECT_REL(dl.estimate, 0.0893220844315, kTight);
  EXPECT_REL(dl.se, 0.0557939247181, kTight);
  EXPECT_REL(fit(teachers, Tau2Method::dl, true).se, 0.0635755550816, kTight);

  const MetaResult reml = fit(teachers, Tau2Method::reml);
  EXPECT_REL(reml.tau2, 0.0188263480558, kTight);
  EXPECT_REL(reml.estimate, 0.0837082352826, kTight);
  EXPECT_REL(reml.se, 0.0516456810589, kTight);
  // The reference gives these prediction intervals to 4 decimals.
  EXPECT_NEAR(*reml.pi_low, -0.2036, 5e-5);
  EXPECT_NEAR(*reml.pi_high, 0.3711, 5e-5);
  const MetaResult reml_knha = fit(teachers, Tau2Method::reml, true);
  EXPECT_REL(reml_knha.se, 0.0615818910324, kTight);
  EXPECT_NEAR(*reml_knha.pi_low, -0.2323, 5e-5);
  EXPECT_NEAR(*reml_knha.pi_high, 0.3997, 5e-5);
}

TEST(MetaValidation, StandardErrorsGiveTheSameAnswerAsVariances) {
  const Data bcg = load("bcg_log_rr");
  for (Tau2Method method : {Tau2Method::dl, Tau2Method::reml, Tau2Method::pm}) {
    MetaOptions options;
    options.tau2_method = method;
    const MetaResult from_se = meta_analysis(bcg.y, bcg.se, options);
    const MetaResult from_v = meta_analysis_variances(bcg.y, bcg.v, options);
    EXPECT_REL(from_se.estimate, *from_v.estimate, 1e-10);
    EXPECT_REL(from_se.tau2, *from_v.tau2, 1e-9);
  }
}

}  // namespace
}  // namespace deepmr::stats
