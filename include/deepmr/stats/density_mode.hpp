#pragma once
// The mode of a weighted kernel density (the mode-based MR estimate, mode.hpp), with a check that
// the grid can resolve it.
//
// R's density() lays its 512 points over the whole range of the values. Ratio estimates by / bx of
// instruments with bx near 0 can reach far out, and then the grid's spacing is many bandwidths
// wide: with 10^6 instruments of true ratio 0.5, a spacing of about 35 for a bandwidth of 0.02, and
// a "mode" of 10.99 (issue 15). So:
//   - where R's grid spacing is at most kMaxModeGridSpacing bandwidths, the mode is R's, bit for bit;
//   - otherwise the same density is laid over the central mass: [q - 3h, Q + 3h] with q and Q the
//     weighted 0.1% and 99.9% quantiles. It is used when its highest point is provably above the
//     density anywhere outside it (there at most (0.1% + exp(-4.5)) / (h sqrt(2 pi)): the tail
//     weight plus the central weight at least 3 bandwidths away); else R's grid stays;
//   - either way, a grid spacing above kMaxModeGridSpacing bandwidths is reported as not resolved.
// A deliberate difference from MendelianRandomization::mr_mbe (docs/statistics.md, section 6).

#include <cmath>
#include <vector>

#include "deepmr/stats/kernel_density.hpp"
#include "deepmr/stats/weighted_tail_quantile.hpp"

namespace deepmr::stats {

enum class ModeGrid {
  r,             // R's grid over every value
  central_mass,  // the grid over the weighted 0.1%..99.9% quantile range
};

struct DensityMode {
  double x = NAN;                     // the (first) highest grid point
  ModeGrid grid = ModeGrid::r;
  double spacing_in_bandwidths = 0;   // of the grid used
  double r_spacing_in_bandwidths = 0; // of R's grid (what made the central grid necessary)
  bool resolved() const;              // the spacing is at most kMaxModeGridSpacing bandwidths
};

// Largest grid spacing, in bandwidths, taken as resolving the mode. R's grid is already up to about
// 13 bandwidths coarse in the bootstrap draws of its own validation data (the lipid example:
// ratios of weak instruments drawn far out), so the line is drawn well above that: only extreme
// spreads leave R's computation.
inline constexpr double kMaxModeGridSpacing = 32.0;
// Weight left out of the central-mass grid on each side.
inline constexpr double kCentralGridTail = 0.001;

// Reusable buffers, so that a bootstrap does not allocate per draw.
class DensityModeFinder {
 public:
  // values and weights of equal length >= 1 (weights need not be normalised), bandwidth > 0.
  DensityMode find(const std::vector<double>& values, const std::vector<double>& weights, double bandwidth);
  // The same with the weights' total given (summed in their order, as find sums it), for draws
  // that keep their weights.
  DensityMode find(const std::vector<double>& values, const std::vector<double>& weights, double bandwidth,
                   double weight_total);
  static double total_of(const std::vector<double>& weights);

 private:
  KernelDensity density_;
  WeightedTailQuantile tails_;  // the central grid's ends, kept from draw to draw
};

}  // namespace deepmr::stats
