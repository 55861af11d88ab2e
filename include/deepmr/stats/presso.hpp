#pragma once
// MR-PRESSO (Verbanck, Chen, Neale and Do 2018, Nat Genet 50:693; the R package MRPRESSO 1.0,
// github rondolab/MR-PRESSO, mr_presso with one exposure), read there and written anew.
//
// Instruments oriented so that bx > 0 (by follows), weights w_i = 1/byse_i^2. Instrument i's
// leave-one-out IVW estimate (no intercept) is b_i = sum_{j!=i} w bx by / sum_{j!=i} w bx^2, its
// residual e_i = by_i - b_i bx_i, and RSSobs = sum_i w_i e_i^2. Each of N simulated data sets (the
// package's NbDistribution, default 1000) draws bx*_i ~ N(bx_i, bxse_i^2) and by*_i ~ N(b_i bx_i,
// byse_i^2), weights unchanged; its RSS is RSSobs's formula on (bx*, by*). Global test: p = #{RSS* >
// RSSobs} / N. Only when p < threshold (0.05) the outlier test runs: instrument i's p is
// #{(by*_i - b_i bx*_i)^2 > e_i^2} / N (b_i the observed one), Bonferroni-corrected min(1, n p); the
// outliers are those with a corrected p <= threshold. The estimate is lm(by ~ -1 + bx, weights = w)
// without the outliers (with none: on every instrument, the package's "Raw"), with lm's SE (scaled
// by the residual SE, not max(1, RSE)) and t with k - 1 df, k the instruments it used.
//
// Leave-one-out from the sums (prefix and suffix sums, so no own term is subtracted from a total):
// O(n) per data set, O(n N) per fit, the outlier counts taken in the same pass. The draws are
// NormalStream(seed, bootstrap_stream(MrMethod::mr_presso)): per data set n normals for bx* then
// n for by* (the package's order), so the same input and seed give the same bits.
// The distortion test is not implemented (docs/statistics.md section 3b).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

struct PressoOptions {
  std::size_t distributions = 1000;  // NbDistribution
  double threshold = 0.05;           // SignifThreshold
  std::uint64_t seed = 314159265;
};

struct PressoTest {
  std::vector<double> loo_estimate;  // b_i, per instrument as given
  std::vector<double> residual2;     // e_i^2 (the package's "Outlier Test" RSSobs column)
  double rss_obs = 0;
  std::size_t distributions = 0;
  std::size_t global_exceed = 0;  // simulated RSS > RSSobs
  double global_pvalue = 1;       // global_exceed / N (0: below 1/N, the package's "<1/N")
  bool outlier_test = false;      // global_pvalue < threshold: the outlier test ran
  std::vector<std::size_t> outlier_exceed;  // per instrument, counted whether or not the test runs
  std::vector<double> outlier_pvalue;       // min(1, n exceed / N); empty when the test did not run
  std::vector<std::size_t> outliers;        // indices with outlier_pvalue <= threshold, increasing
};

// The global and outlier tests on instruments with bx != 0 and byse > 0, at least 4 of them (the
// caller checks; InternalError otherwise). Orients them itself (the package's sign(bx)).
PressoTest presso_test(const Instruments& instruments, const PressoOptions& options);

// lm(by ~ -1 + bx, weights = 1/byse^2) on the instruments whose `excluded` flag is 0: estimate, lm's
// SE, residual SE, df = k - 1. Nothing when fewer than 2 remain or their bx are all 0.
struct PressoFit {
  double estimate = 0, se = 0, residual_se = 0;
  long df = 0;
  std::size_t n_used = 0;
};
std::optional<PressoFit> presso_ivw(const Instruments& instruments, const std::vector<char>& excluded);

// The method `mr-presso`: the outlier-corrected (or raw) estimate with t intervals at options.level
// (t with k - 1 df whatever options.distribution, as the package), q = RSSobs, q_pvalue = the global
// test's p, n_used = k, n_outliers; MrOptions::presso_distributions data sets.
MrResult fit_presso(const Instruments& instruments, const MrOptions& options);

}  // namespace deepmr::stats
