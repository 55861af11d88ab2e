#pragma once
// Mendelian randomization of one exposure on one outcome from summary statistics: the methods of
// MendelianRandomization (Yavorska and Burgess 2017) with its defaults, and one result type that
// carries every column of `deepmr mr` and of the store's fits/<method> tables.
//
//   Instruments in = ...;                          // bx, bxse, by, byse (doubles)
//   MrOptions options;                             // normal intervals, 10,000 bootstrap draws
//   options.seed = unit_seed(run_seed, exposure, region);   // see normal_stream.hpp
//   std::vector<MrResult> rows = fit_all(default_methods(), in, options);
//
// A method that cannot be estimated from the data says so (estimable = false, reason); no field is
// ever NaN or infinite: a value that does not apply or cannot be computed is empty (nullopt).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/instruments.hpp"

namespace deepmr::stats {

enum class MrMethod {
  ivw,              // MendelianRandomization's default: fixed effect below 4 instruments, random from 4
  ivw_fixed,        // inverse-variance weighted, fixed effect
  ivw_random,       // inverse-variance weighted, multiplicative random effects
  egger,            // MR-Egger regression
  median_weighted,  // weighted median (first-order weights), bootstrap SE
  median_simple,    // simple median, bootstrap SE
  mode_weighted,    // mode-based estimate (Hartwig 2017), weighted, delta SEs, bootstrap SE (MAD)
  // Weak-instrument and outlier-robust methods (issue 18): selectable, never in the defaults.
  divw,              // debiased IVW (Ye, Shao and Kang 2021; mr_divw), over-dispersion on
  ivw_penalized,     // IVW with penalized weights (mr_ivw(penalized = TRUE)), model as ivw
  egger_penalized,   // MR-Egger with penalized weights (mr_egger(penalized = TRUE))
  median_penalized,  // weighted median with penalized weights (mr_median(weighting = "penalized"))
  conmix,            // contamination mixture (Burgess et al. 2020; mr_conmix), grid profile likelihood
  ivw_robust,              // IVW by MM-estimation (mr_ivw(robust = TRUE): robustbase::lmrob)
  egger_robust,            // MR-Egger by MM-estimation (mr_egger(robust = TRUE))
  ivw_penalized_robust,    // both (mr_ivw(robust = TRUE, penalized = TRUE))
  egger_penalized_robust,  // both (mr_egger(robust = TRUE, penalized = TRUE))
  mr_presso,               // MR-PRESSO (Verbanck et al. 2018; MRPRESSO::mr_presso): outlier-corrected IVW
};

// "ivw", "ivw-fixed", "ivw-random", "egger", "median-weighted", "median-simple", "mode-weighted",
// "divw", "ivw-penalized", "egger-penalized", "median-penalized", "conmix", "ivw-robust",
// "egger-robust", "ivw-penalized-robust", "egger-penalized-robust", "mr-presso".
std::string mr_method_name(MrMethod method);
// Throws UsageError naming `option` for an unknown name.
MrMethod parse_mr_method(const std::string& text, const std::string& option = "methods");
// A comma-separated list of names (no duplicates, at least one).
std::vector<MrMethod> parse_mr_methods(const std::string& text, const std::string& option = "methods");
std::vector<MrMethod> all_mr_methods();
// ivw, egger, median-weighted, mode-weighted.
std::vector<MrMethod> default_mr_methods();
// The Philox stream id of a method's bootstrap draws under MrOptions::seed.
std::uint64_t bootstrap_stream(MrMethod method);

// The weights of the IVW estimates (MendelianRandomization::mr_ivw's `weights`): first-order,
// 1 / byse^2; or second-order ("delta"), 1 / (byse^2 + by^2 bxse^2 / bx^2 - 2 psi by bxse byse / bx),
// which also carry the uncertainty in bx and the correlation psi of the bx and by errors.
enum class IvwWeights { simple, delta };

struct MrOptions {
  Distribution distribution = Distribution::normal;  // t: J - 1 df (Egger: J - 2)
  double level = 0.95;                               // confidence level of the intervals
  std::size_t bootstrap_draws = 10000;               // medians and mode; 0: estimate only, no SE
  std::uint64_t seed = 314159265;                    // bootstrap seed (MendelianRandomization's default)
  double min_abs_z_x = 0;                            // strength filter |bx / bxse| >= this; 0: off
  double mode_phi = 1;                               // bandwidth factor of the mode-based estimate
  double conmix_psi = 0;            // conmix: sd of the invalid estimands; 0: 1.5 x sd of the ratios
  double conmix_step = 0.01;        // conmix: grid step of the profile likelihood (absolute)
  std::size_t conmix_max_grid = 1000000;  // conmix: more grid points than this: not estimable
  std::size_t presso_distributions = 1000;  // mr-presso: simulated data sets (the package's NbDistribution)
  double presso_threshold = 0.05;           // mr-presso: SignifThreshold of the global and outlier tests
  IvwWeights ivw_weights = IvwWeights::simple;  // ivw, ivw-fixed, ivw-random (other methods: first-order)
  double psi = 0;  // delta weights: the correlation of instruments without their own (Instruments::psi)
  // Threads of the median and mode bootstraps (0 or 1: the calling thread alone). Speed only: the
  // draws are the same and combine in the same order for any count (bootstrap_draws.hpp).
  std::size_t threads = 1;
};

// "simple" or "delta"; throws UsageError naming `option` otherwise.
IvwWeights parse_ivw_weights(const std::string& text, const std::string& option);
// Whether `methods` has a method the weights apply to (ivw, ivw-fixed, ivw-random).
bool weighs_ivw(const std::vector<MrMethod>& methods);

// One range of a confidence set (conmix's may be a union of several).
struct Interval {
  double low = 0, high = 0;
};

struct MrResult {
  MrMethod method = MrMethod::ivw;
  bool estimable = false;
  std::string reason;  // why not estimable; when estimable, a warning about the estimate or empty
                       // (mode-weighted: its density grid could not resolve the mode, density_mode.hpp)
  std::string model;   // ivw: "fixed" or "random" as applied; mr-presso: "raw" or "outlier-corrected";
                       // other methods: empty

  std::optional<double> estimate, se, ci_low, ci_high, pvalue;
  std::optional<double> intercept, intercept_se, intercept_ci_low, intercept_ci_high, intercept_pvalue;  // egger
  std::optional<double> q, q_pvalue;  // ivw: Cochran's Q; egger: Rucker's Q
  std::optional<long> q_df;
  std::optional<double> i2;           // ivw: max(0, (Q - df) / Q), a fraction
  std::optional<double> i2_gx;        // egger: I^2_GX of bx / byse (Bowden 2016), a fraction
  std::optional<double> f_mean;       // mean of (bx / bxse)^2 over the instruments used
  std::optional<double> residual_se;  // ivw, egger: residual standard error of the regression
  std::optional<long> df;             // degrees of freedom of the t distribution, when used
  // The grouped jackknife over the Monte Carlo samples (jackknife.hpp; only where a caller has the
  // samples, i.e. inside `deepmr run`): its SE and the Wald interval and p-value from it.
  std::optional<double> se_jackknife, ci_low_jackknife, ci_high_jackknife, pvalue_jackknife;
  std::size_t n_used = 0;             // instruments the method used
  std::size_t bootstrap_draws = 0;    // draws behind se (medians, mode)
  InstrumentCounts counts;            // instruments in, and dropped before any method

  // Outputs beyond the columns (library only: not in `deepmr mr`'s table nor in the store, whose
  // columns stay those of result_columns.hpp; docs/statistics.md says how they surface there).
  std::optional<double> condition;    // divw: (mean F - 1) sqrt(J), = (f_mean - 1) sqrt(n_used); want > 20
  std::optional<double> tau2;         // divw: the over-dispersion variance it estimated
  std::optional<double> psi;          // conmix: the sd of the invalid instruments' estimands used
  std::optional<double> phi;          // conmix: over-dispersion of the valid ones (>= 1) behind the interval
  std::optional<long> n_valid;        // conmix: instruments taken as valid at the estimate
  std::vector<Interval> intervals;    // conmix: the confidence set, disjoint ranges in increasing order
                                      // (ci_low, ci_high: the lowest and highest ends)
  std::optional<long> n_outliers;     // mr-presso: instruments its outlier test removed

  // "ok" or "not estimable: <reason>".
  std::string status() const;
};

// Validates, filters (options.min_abs_z_x, no-information instruments) and fits one method.
MrResult fit_mr(MrMethod method, const Instruments& instruments, const MrOptions& options = {});
// The same for several methods, validating and filtering once; results in the order asked.
std::vector<MrResult> fit_all(const std::vector<MrMethod>& methods, const Instruments& instruments,
                              const MrOptions& options = {});

}  // namespace deepmr::stats
