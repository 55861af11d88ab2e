#include "deepmr/stats/density_mode.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {
namespace {

constexpr double kOneOverSqrtTwoPi = 0.398942280401432677939946059934;
// The central grid's highest point must exceed the bound outside it by this factor: a margin for
// the error of the binned density against the exact one.
constexpr double kOutsideBoundMargin = 1.5;

std::size_t highest(const DensityGrid& grid) {  // the first of equal maxima, as R's which.max
  return static_cast<std::size_t>(std::max_element(grid.y.begin(), grid.y.end()) - grid.y.begin());
}

}  // namespace

bool DensityMode::resolved() const { return spacing_in_bandwidths <= kMaxModeGridSpacing; }

double DensityModeFinder::total_of(const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  return total;
}

DensityMode DensityModeFinder::find(const std::vector<double>& values, const std::vector<double>& weights,
                                    double bandwidth) {
  return find(values, weights, bandwidth, total_of(weights));
}

DensityMode DensityModeFinder::find(const std::vector<double>& values, const std::vector<double>& weights,
                                    double bandwidth, double weight_total) {
  if (values.empty() || values.size() != weights.size() || !(bandwidth > 0))
    throw InternalError("stats: a density mode needs values, one weight each and a positive bandwidth");
  const double h = bandwidth;
  const double intervals = static_cast<double>(density_.points() - 1);
  const auto [min_it, max_it] = std::minmax_element(values.begin(), values.end());
  const double r_from = *min_it - 3 * h, r_to = *max_it + 3 * h;

  DensityMode mode;
  mode.r_spacing_in_bandwidths = (r_to - r_from) / intervals / h;
  auto on_r_grid = [&] {
    const DensityGrid& grid = density_.estimate_over(values, weights, h, r_from, r_to);
    mode.x = grid.x[highest(grid)];
    mode.grid = ModeGrid::r;
    mode.spacing_in_bandwidths = mode.r_spacing_in_bandwidths;
    return mode;
  };
  if (mode.r_spacing_in_bandwidths <= kMaxModeGridSpacing) return on_r_grid();

  // The weighted kCentralGridTail and 1 - kCentralGridTail quantiles.
  const double total = weight_total;
  const double low = tails_.lower(values, weights, kCentralGridTail * total, total);
  const double high = tails_.upper(values, weights, kCentralGridTail * total, total);

  const double from = low - 3 * h, to = high + 3 * h;
  const DensityGrid& central = density_.estimate_over(values, weights, h, from, to);
  const std::size_t peak = highest(central);
  // Left of `from` only the weight below `low` (at most the tail) is nearer than 3h; the same on
  // the right. So the density outside is below this bound.
  const double outside = (kCentralGridTail + std::exp(-4.5)) * total * kOneOverSqrtTwoPi / h;
  if (!(central.y[peak] > kOutsideBoundMargin * outside)) return on_r_grid();  // too flat to tell
  mode.x = central.x[peak];
  mode.grid = ModeGrid::central_mass;
  mode.spacing_in_bandwidths = (to - from) / intervals / h;
  return mode;
}

}  // namespace deepmr::stats
