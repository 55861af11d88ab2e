#include "deepmr/stats/kernel_density.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {
namespace {

constexpr double kOneOverSqrtTwoPi = 0.398942280401432677939946059934;

// R's approx1 (linear, rule 1) at v, given the interval [x[i], x[i + 1]] its bisection finds.
double interpolate(double v, std::size_t i, const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t j = i + 1;
  if (v == x[j]) return y[j];
  if (v == x[i]) return y[i];
  return y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]));
}

// The interval approx1's bisection finds for v in [x[0], x[n - 1]]: the last i <= n - 2 with
// x[i] <= v where x is strictly increasing; where it is not, the bisection itself.
class IntervalFinder {
 public:
  explicit IntervalFinder(const std::vector<double>& x) : x_(x) {
    for (std::size_t i = 0; i + 1 < x.size(); ++i) increasing_ &= x[i] < x[i + 1];
  }
  // From the previous answer (the points asked for come in nearly increasing order).
  std::size_t operator()(double v) {
    const std::size_t last = x_.size() - 1;
    if (!increasing_) return bisect(v);
    while (at_ + 1 < last && x_[at_ + 1] <= v) ++at_;
    while (at_ > 0 && x_[at_] > v) --at_;
    return at_;
  }

 private:
  std::size_t bisect(double v) const {
    std::size_t i = 0, j = x_.size() - 1;
    while (i + 1 < j) {
      const std::size_t middle = (i + j) / 2;
      if (v < x_[middle]) j = middle;
      else i = middle;
    }
    return i;
  }
  const std::vector<double>& x_;
  bool increasing_ = true;
  std::size_t at_ = 0;
};

// out[i] += mass * kernel[i] for i < count: every output gets its terms in the order of the bins,
// so the sums are those of the scalar loop; the clones let it run 8 lanes wide where the CPU can
// (mul and add stay separate: the layer is compiled with -ffp-contract=off).
__attribute__((target_clones("avx512f", "avx2", "default"))) void add_scaled(double* __restrict out,
                                                                              const double* __restrict kernel,
                                                                              double mass, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) out[i] += mass * kernel[i];
}

// The binning's position (v - lo) / delta of each value, lane by lane (the same divisions as one
// at a time).
__attribute__((target_clones("avx512f", "avx2", "default"))) void grid_positions(const double* __restrict values,
                                                                                  std::size_t count, double lo,
                                                                                  double delta,
                                                                                  double* __restrict positions) {
  for (std::size_t i = 0; i < count; ++i) positions[i] = (values[i] - lo) / delta;
}

void r_sequence_into(double from, double to, std::size_t n, std::vector<double>& out) {
  out.resize(n);
  if (n > 0) out[0] = from;
  if (n > 1) out[n - 1] = to;
  if (n > 2) {
    const double by = (to - from) / static_cast<double>(n - 1);
    for (std::size_t i = 1; i + 1 < n; ++i)
      out[i] = i < n / 2 ? from + static_cast<double>(i) * by : to - static_cast<double>(n - 1 - i) * by;
  }
}

}  // namespace

std::vector<double> r_sequence(double from, double to, std::size_t n) {
  std::vector<double> out;
  r_sequence_into(from, to, n, out);
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
  // Without branches (in the central grid's tails many values fall outside): slot s of `slots_`
  // is bin s - 1, and the parts that fall off the grid go to slots 0 and n + 1, or both to one of
  // the 8 slots from n + 2 for a value outside [lo - delta, up + delta] (8, so that those additions
  // do not wait on each other). Each bin gets the same terms in the same order.
  const double delta = (up - lo) / static_cast<double>(n - 1);
  slots_.assign(n + 10, 0.0);
  const double last_cell = static_cast<double>(n - 1);
  positions_.resize(values.size());
  grid_positions(values.data(), values.size(), lo, delta, positions_.data());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double position = positions_[i];
    const double cell = std::floor(position);
    const double fraction = position - cell;
    const bool on_grid = (cell >= -1) & (cell <= last_cell);  // false for NaN
    const std::size_t off_grid = n + 2 + (i & 7);
    const std::size_t lower = on_grid ? static_cast<std::size_t>(cell + 1) : off_grid;
    const std::size_t upper = on_grid ? lower + 1 : off_grid;
    slots_[lower] += weights[i] * (1 - fraction);
    slots_[upper] += weights[i] * fraction;
  }
  binned_.assign(slots_.begin() + 1, slots_.begin() + 1 + static_cast<std::ptrdiff_t>(n));

  // Where approx1 reads the convolution: the interval of each output point (none outside the
  // grid, where the density is NaN), and the outputs [need_first, need_last] those read. The rest
  // of the convolution is never read, and is not computed.
  r_sequence_into(lo, up, n, grid_);
  r_sequence_into(from, to, n, out_.x);
  constexpr std::size_t kOutside = static_cast<std::size_t>(-1);
  intervals_.resize(n);
  std::size_t need_first = n, need_last = 0;
  IntervalFinder find_interval(grid_);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = out_.x[i];
    if (v < grid_[0] || v > grid_[n - 1]) {
      intervals_[i] = kOutside;
      continue;
    }
    intervals_[i] = find_interval(v);
    need_first = std::min(need_first, intervals_[i]);
    need_last = std::max(need_last, intervals_[i] + 1);
  }
  std::size_t mass_first = n, mass_last = 0;  // the bins with mass
  for (std::size_t j = 0; j < n; ++j)
    if (binned_[j] != 0) {
      mass_first = std::min(mass_first, j);
      mass_last = j;
    }

  // The kernel at R's lags: seq(0, 2 (up - lo), length.out = 2n), of which lags 0..n-1 are used
  // (the circular FFT convolution of R reduces to this sum for the first n outputs). It is cut
  // where it underflows to zero, which changes no sum, and beyond the longest lag from a bin with
  // mass to an output that is read.
  const double lag_step = 2 * (up - lo) / static_cast<double>(2 * n - 1);
  const std::size_t longest_lag =
      need_first > need_last || mass_first > mass_last
          ? 0
          : std::max(need_last > mass_first ? need_last - mass_first : 0, mass_last > need_first ? mass_last - need_first : 0);
  kernel_.clear();
  for (std::size_t d = 0; d < n && d <= longest_lag; ++d) {
    const double z = static_cast<double>(d) * lag_step / bandwidth;
    const double k = kOneOverSqrtTwoPi * std::exp(-0.5 * z * z) / bandwidth;
    if (k == 0) break;
    kernel_.push_back(k);
  }
  const std::size_t reach = kernel_.size();
  // The kernel at lags -(reach - 1) .. reach - 1, so that bin j's terms read it forwards.
  two_sided_kernel_.resize(reach == 0 ? 0 : 2 * reach - 1);
  for (std::size_t d = 0; d < reach; ++d)
    two_sided_kernel_[reach - 1 - d] = two_sided_kernel_[reach - 1 + d] = kernel_[d];
  // Each output sums its bins' terms in the order of the bins, as R's direct form would.
  convolved_.assign(n, 0.0);
  if (reach > 0 && need_first <= need_last)
    for (std::size_t j = mass_first; j <= mass_last && j < n; ++j) {
      const double mass = binned_[j];
      if (mass == 0) continue;
      const std::size_t first = std::max(need_first, j + 1 > reach ? j + 1 - reach : 0);
      const std::size_t last = std::min(need_last + 1, j + reach);
      if (first < last)
        add_scaled(convolved_.data() + first, two_sided_kernel_.data() + (first + reach - 1 - j), mass, last - first);
    }
  for (double& c : convolved_) c = std::max(0.0, c);

  out_.y.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    out_.y[i] = intervals_[i] == kOutside ? NAN : interpolate(out_.x[i], intervals_[i], grid_, convolved_);
  return out_;
}

double KernelDensity::mode(const std::vector<double>& values, const std::vector<double>& weights, double bandwidth) {
  const DensityGrid& grid = estimate(values, weights, bandwidth);
  const auto highest = std::max_element(grid.y.begin(), grid.y.end());  // the first of equal maxima
  return grid.x[static_cast<std::size_t>(highest - grid.y.begin())];
}

}  // namespace deepmr::stats
