#include "deepmr/stats/kernel_density.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {
namespace {

constexpr double kOneOverSqrtTwoPi = 0.398942280401432677939946059934;

// R's approx1 (linear, rule 1): bisection for the interval, then interpolation.
double approx_linear(double v, const std::vector<double>& x, const std::vector<double>& y) {
  std::size_t i = 0, j = x.size() - 1;
  if (v < x[i] || v > x[j]) return NAN;
  while (i + 1 < j) {
    const std::size_t middle = (i + j) / 2;
    if (v < x[middle]) j = middle;
    else i = middle;
  }
  if (v == x[j]) return y[j];
  if (v == x[i]) return y[i];
  return y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]));
}

}  // namespace

std::vector<double> r_sequence(double from, double to, std::size_t n) {
  std::vector<double> out(n);
  if (n > 0) out[0] = from;
  if (n > 1) out[n - 1] = to;
  if (n > 2) {
    const double by = (to - from) / static_cast<double>(n - 1);
    for (std::size_t i = 1; i + 1 < n; ++i)
      out[i] = i < n / 2 ? from + static_cast<double>(i) * by : to - static_cast<double>(n - 1 - i) * by;
  }
  return out;
}

const DensityGrid& KernelDensity::estimate(const std::vector<double>& values, const std::vector<double>& weights,
                                           double bandwidth) {
  if (values.empty()) throw InternalError("stats: kernel density needs values");
  const auto [min_it, max_it] = std::minmax_element(values.begin(), values.end());
  return estimate_over(values, weights, bandwidth, *min_it - 3 * bandwidth, *max_it + 3 * bandwidth);
}

const DensityGrid& KernelDensity::estimate_over(const std::vector<double>& values, const std::vector<double>& weights,
                                                double bandwidth, double from, double to) {
  if (values.empty() || values.size() != weights.size() || !(bandwidth > 0) || !(to > from))
    throw InternalError("stats: kernel density needs values, one weight each, a positive bandwidth and a range");
  const std::size_t n = points_;
  const double lo = from - 4 * bandwidth, up = to + 4 * bandwidth;

  // BinDist: linear binning onto n points over [lo, up]; values outside it are left out, as R's
  // BinDist leaves them (on R's own range every value lies strictly inside).
  binned_.assign(n, 0.0);
  const double delta = (up - lo) / static_cast<double>(n - 1);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double position = (values[i] - lo) / delta;
    const double cell = std::floor(position);
    const double fraction = position - cell;
    const auto ix = static_cast<long>(cell);
    if (ix >= 0 && ix <= static_cast<long>(n) - 2) {
      binned_[static_cast<std::size_t>(ix)] += weights[i] * (1 - fraction);
      binned_[static_cast<std::size_t>(ix) + 1] += weights[i] * fraction;
    } else if (ix == -1) {
      binned_[0] += weights[i] * fraction;
    } else if (ix == static_cast<long>(n) - 1) {
      binned_[static_cast<std::size_t>(ix)] += weights[i] * (1 - fraction);
    }
  }

  // The kernel at R's lags: seq(0, 2 (up - lo), length.out = 2n), of which lags 0..n-1 are used
  // (the circular FFT convolution of R reduces to this sum for the first n outputs). It is cut
  // where it underflows to zero, which changes no sum.
  const double lag_step = 2 * (up - lo) / static_cast<double>(2 * n - 1);
  kernel_.clear();
  for (std::size_t d = 0; d < n; ++d) {
    const double z = static_cast<double>(d) * lag_step / bandwidth;
    const double k = kOneOverSqrtTwoPi * std::exp(-0.5 * z * z) / bandwidth;
    if (k == 0) break;
    kernel_.push_back(k);
  }
  const std::size_t reach = kernel_.size();
  convolved_.assign(n, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    const double mass = binned_[j];
    if (mass == 0) continue;
    const std::size_t first = j + 1 > reach ? j + 1 - reach : 0, last = std::min(n, j + reach);
    for (std::size_t m = first; m < last; ++m) convolved_[m] += mass * kernel_[m > j ? m - j : j - m];
  }
  for (double& c : convolved_) c = std::max(0.0, c);

  grid_ = r_sequence(lo, up, n);
  out_.x = r_sequence(from, to, n);
  out_.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) out_.y[i] = approx_linear(out_.x[i], grid_, convolved_);
  return out_;
}

double KernelDensity::mode(const std::vector<double>& values, const std::vector<double>& weights, double bandwidth) {
  const DensityGrid& grid = estimate(values, weights, bandwidth);
  const auto highest = std::max_element(grid.y.begin(), grid.y.end());  // the first of equal maxima
  return grid.x[static_cast<std::size_t>(highest - grid.y.begin())];
}

}  // namespace deepmr::stats
