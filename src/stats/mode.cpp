#include "deepmr/stats/mode.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "deepmr/stats/density_mode.hpp"
#include "deepmr/stats/heterogeneity.hpp"
#include "bootstrap_draws.hpp"
#include "median_selector.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {
namespace {

// Numbers of a note: 3 significant digits.
std::string short_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", value);
  return buffer;
}

// How the densities of one fit were resolved (density_mode.hpp): the estimate's and the
// bootstrap draws'.
struct GridTally {
  std::size_t central = 0, unresolved = 0;
  double widest_unresolved = 0;  // the largest grid spacing, in bandwidths, of an unresolved density
  double widest_r_grid = 0;      // the largest spacing of R's grid where the central grid was used
  void add(const DensityMode& mode) {
    if (mode.grid == ModeGrid::central_mass) {
      ++central;
      widest_r_grid = std::max(widest_r_grid, mode.r_spacing_in_bandwidths);
    }
    if (!mode.resolved()) {
      ++unresolved;
      widest_unresolved = std::max(widest_unresolved, mode.spacing_in_bandwidths);
    }
  }
  void merge(const GridTally& other) {  // counts and maxima: the same in any order
    central += other.central;
    unresolved += other.unresolved;
    widest_unresolved = std::max(widest_unresolved, other.widest_unresolved);
    widest_r_grid = std::max(widest_r_grid, other.widest_r_grid);
  }
};

// The warning an estimable mode fit carries in its reason (empty: R's grid resolved every
// density, the estimate is R's). At most 120 characters, the store's reason width.
std::string grid_warning(const GridTally& estimate, const GridTally& draws, std::size_t n_draws) {
  const std::string central = "mode found over the central " + short_number(100 * (1 - 2 * kCentralGridTail)) + "% of the weight";
  const std::string in_draws = " in " + std::to_string(draws.unresolved ? draws.unresolved : draws.central) + " of " +
                               std::to_string(n_draws) + " bootstrap draws";
  if (estimate.unresolved)
    return "the mode is not resolved: its density grid's spacing is " + short_number(estimate.widest_unresolved) +
           " bandwidths (too wide a spread of by/bx)";
  if (draws.unresolved)
    return "the mode is not resolved" + in_draws + ": density grid spacing up to " + short_number(draws.widest_unresolved) +
           " bandwidths";
  if (estimate.central)
    return "R's density grid is too coarse (spacing " + short_number(estimate.widest_r_grid) + " bandwidths): " + central;
  if (draws.central) return "R's density grid is too coarse" + in_draws + ": " + central;
  return "";
}

// Hartwig's bandwidth: phi * 0.9 * min(sd, mad) / J^(1/5), with the mad given.
double bandwidth(const std::vector<double>& ratios, double mad, double phi) {
  const double spread = std::min(detail::sample_sd(ratios), mad);
  return phi * 0.9 * spread / std::pow(static_cast<double>(ratios.size()), 0.2);
}
double bandwidth(const std::vector<double>& ratios, double phi) {
  return bandwidth(ratios, detail::median_absolute_deviation(ratios), phi);
}

}  // namespace

double mode_based_estimate(const std::vector<double>& ratios, const std::vector<double>& weights, double phi) {
  if (ratios.size() < 2) return NAN;
  const double h = bandwidth(ratios, phi);
  if (!(h > 0) || !std::isfinite(h)) return NAN;
  DensityModeFinder finder;
  return finder.find(ratios, weights, h).x;
}

MrResult fit_mode(const Instruments& instruments, const MrOptions& options) {
  const MrMethod method = MrMethod::mode_weighted;
  const Instruments used = detail::with_nonzero_bx(instruments);
  const std::size_t n = used.size();
  if (n < 3)
    return detail::not_estimable(method, n,
                                 "too few instruments (" + std::to_string(n) + " with bx != 0; mode-weighted needs 3)");
  if (auto reason = detail::zero_byse_reason(used)) return detail::not_estimable(method, n, *reason);
  if (!(options.mode_phi > 0)) return detail::not_estimable(method, n, "the bandwidth factor phi must be positive");

  // Ratio estimates, their second-order ("delta") SEs and normalised weights s^-2.
  std::vector<double> ratios(n), ratio_se(n), weights(n);
  double weight_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double bx = used.bx[i], by = used.by[i];
    ratios[i] = by / bx;
    ratio_se[i] = std::sqrt(used.byse[i] * used.byse[i] / (bx * bx) +
                            by * by * used.bxse[i] * used.bxse[i] / (bx * bx * bx * bx));
    weights[i] = 1 / (ratio_se[i] * ratio_se[i]);
    weight_sum += weights[i];
  }
  for (double& w : weights) w /= weight_sum;

  const double h = bandwidth(ratios, options.mode_phi);
  if (!(h > 0) || !std::isfinite(h))
    return detail::not_estimable(method, n,
                                 "the ratio estimates have no spread (bandwidth 0: at least half of them are equal)");
  DensityModeFinder finder;
  GridTally estimate_grid, draw_grids;
  const DensityMode found = finder.find(ratios, weights, h);
  estimate_grid.add(found);
  const double estimate = found.x;

  MrResult result;
  result.method = method;
  result.estimable = true;
  result.n_used = n;
  result.estimate = estimate;
  const std::size_t draws = options.bootstrap_draws;
  if (draws >= 2) {
    // Per worker: its buffers, its finder, the mads of its draws (selected near its previous
    // draws' medians) and its tally of the grids.
    struct Worker {
      std::vector<double> boot;
      DensityModeFinder finder;
      detail::MadSelector mad;
      GridTally grids;
      bool no_spread = false;
    };
    std::vector<Worker> workers(std::max<std::size_t>(1, options.threads));
    for (auto& worker : workers) worker.boot.resize(n);
    std::vector<double> estimates(draws);
    const double weight_total = DensityModeFinder::total_of(weights);  // the draws keep the weights
    detail::for_each_bootstrap_draw(
        options.seed, bootstrap_stream(method), n, draws, workers.size(),
        [&](std::size_t w, std::size_t d, const double* z) {
          Worker& worker = workers[w];
          if (worker.no_spread) return;  // the fit is not estimable: the rest of the draws do not matter
          for (std::size_t i = 0; i < n; ++i) worker.boot[i] = ratios[i] + ratio_se[i] * z[i];
          const double boot_h = bandwidth(worker.boot, worker.mad(worker.boot), options.mode_phi);
          if (!(boot_h > 0) || !std::isfinite(boot_h)) {
            worker.no_spread = true;
            return;
          }
          const DensityMode draw = worker.finder.find(worker.boot, weights, boot_h, weight_total);
          worker.grids.add(draw);
          estimates[d] = draw.x;
        });
    for (const auto& worker : workers) {
      if (worker.no_spread)
        return detail::not_estimable(method, n, "a bootstrap draw had no spread in its ratio estimates");
      draw_grids.merge(worker.grids);
    }
    const double se = detail::median_absolute_deviation(estimates);
    detail::set_wald(result, estimate, se, options, static_cast<long>(n) - 1);
    result.bootstrap_draws = draws;
  }
  result.f_mean = mean_f_statistic(used);
  result.reason = grid_warning(estimate_grid, draw_grids, draws);
  return result;
}

}  // namespace deepmr::stats
