// Extreme but finite inputs (issue: an SE of 1e-160 crashed IVW with SIGSEGV; by = 1e300 with
// byse = 1e-300 made the weighted median throw and Egger misreport its reason; the meta-analysis
// threw Boost's "Chi Square parameter was -nan"): every estimator gives a finite result or "not
// estimable" with the reason, never a signal or an exception.

#include <gtest/gtest.h>

#include <cmath>

#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/mr.hpp"
#include "deepmr/stats/result_columns.hpp"

namespace deepmr::stats {
namespace {

Instruments four(double by2, double byse2) {
  Instruments in;
  in.push_back(0.1, 0.01, 0.2, 0.02);
  in.push_back(0.2, 0.01, by2, byse2);
  in.push_back(0.3, 0.02, 0.7, 0.03);
  in.push_back(0.4, 0.02, 0.9, 0.03);
  return in;
}

// Estimable with every set column finite, or not estimable with a reason.
void expect_sound(const MrResult& r) {
  if (!r.estimable) {
    EXPECT_FALSE(r.reason.empty()) << mr_method_name(r.method);
    return;
  }
  for (const auto& c : mr_columns()) {
    if (auto v = c.value(r)) {
      EXPECT_TRUE(std::isfinite(*v)) << mr_method_name(r.method) << " " << c.name;
    }
  }
}

TEST(ExtremeValues, TinyOutcomeSeGivesAFiniteFitOrAReason) {
  MrOptions options;
  options.bootstrap_draws = 200;
  const auto results = fit_all(all_mr_methods(), four(0.35, 1e-160), options);
  for (const auto& r : results) expect_sound(r);
  // 1 / (1e-160)^2 overflows: the weighting methods say so, and name the cause.
  for (const auto& r : results)
    if (r.method == MrMethod::ivw || r.method == MrMethod::egger) {
      EXPECT_FALSE(r.estimable);
      EXPECT_NE(r.reason.find("1e-160"), std::string::npos) << r.reason;
    }
}

TEST(ExtremeValues, HugeOutcomeEffectWithTinySeIsNotMistakenForEqualBx) {
  MrOptions options;
  options.bootstrap_draws = 200;
  const auto results = fit_all(all_mr_methods(), four(1e300, 1e-300), options);
  for (const auto& r : results) {
    expect_sound(r);
    EXPECT_EQ(r.reason.find("same |bx|"), std::string::npos) << mr_method_name(r.method) << ": " << r.reason;
  }
}

TEST(ExtremeValues, OrdinaryInputsAreUntouched) {
  MrOptions options;
  options.bootstrap_draws = 200;
  for (const auto& r : fit_all(all_mr_methods(), four(0.35, 0.02), options)) {
    EXPECT_TRUE(r.estimable) << mr_method_name(r.method) << ": " << r.reason;
    expect_sound(r);
  }
}

void expect_sound(const MetaResult& r) {
  if (!r.estimable) {
    EXPECT_FALSE(r.reason.empty());
    return;
  }
  for (const auto& c : meta_columns()) {
    if (auto v = c.value(r)) {
      EXPECT_TRUE(std::isfinite(*v)) << c.name;
    }
  }
}

TEST(ExtremeValues, MetaAnalysisOfExtremeSesAndEstimates) {
  for (auto method : {Tau2Method::dl, Tau2Method::reml, Tau2Method::pm, Tau2Method::fe}) {
    MetaOptions options;
    options.tau2_method = method;
    const auto tiny = meta_analysis({0.1, 0.2, 0.3}, {0.1, 1e-160, 0.1}, options);
    expect_sound(tiny);
    EXPECT_FALSE(tiny.estimable);
    expect_sound(meta_analysis({1e300, -1e300, 0.5}, {0.1, 0.1, 0.1}, options));
    expect_sound(meta_analysis({0.1, 0.2, 0.3}, {0.1, 0.2, 0.15}, options));
    EXPECT_TRUE(meta_analysis({0.1, 0.2, 0.3}, {0.1, 0.2, 0.15}, options).estimable);
  }
}

}  // namespace
}  // namespace deepmr::stats
