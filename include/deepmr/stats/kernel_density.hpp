#pragma once
// R's density(x, weights = w, bw = h) with the Gaussian kernel, n = 512 and cut = 3, as R 4.2
// computes it: the weights are binned linearly onto 512 points over [min - 7h, max + 7h], convolved
// with the kernel sampled at R's (pre-4.4, "old.coords") spacing, and interpolated linearly onto
// 512 points over [min - 3h, max + 3h]. The convolution is summed directly rather than by FFT (the
// same values to rounding). The mode-based MR estimate is the grid point of highest density.

#include <cstddef>
#include <vector>

namespace deepmr::stats {

struct DensityGrid {
  std::vector<double> x, y;
};

// Reusable buffers, so that a bootstrap does not allocate per draw.
class KernelDensity {
 public:
  explicit KernelDensity(std::size_t points = 512) : points_(points) {}
  // values and weights of equal length >= 1, bandwidth > 0, all finite.
  const DensityGrid& estimate(const std::vector<double>& values, const std::vector<double>& weights, double bandwidth);
  // The same computation on the same number of points over [from, to] (binning over [from - 4h, to + 4h]) instead
  // of R's range; values outside the binning range are left out (density_mode.hpp uses it).
  const DensityGrid& estimate_over(const std::vector<double>& values, const std::vector<double>& weights,
                                   double bandwidth, double from, double to);
  // The x of the (first) highest density point.
  double mode(const std::vector<double>& values, const std::vector<double>& weights, double bandwidth);
  std::size_t points() const { return points_; }

 private:
  std::size_t points_;
  std::vector<double> positions_, slots_, binned_, kernel_, two_sided_kernel_, convolved_, grid_;
  std::vector<std::size_t> intervals_;  // of the grid, for each output point
  DensityGrid out_;
};

// R's seq.int(from, to, length.out = n): the first half counted up from `from`, the second half
// down from `to`, both ends exact.
std::vector<double> r_sequence(double from, double to, std::size_t n);

}  // namespace deepmr::stats
