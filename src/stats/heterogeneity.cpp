#include "deepmr/stats/heterogeneity.hpp"

#include <algorithm>
#include <cmath>

namespace deepmr::stats {

double i_squared(double q, double df) { return q > 0 ? std::max(0.0, (q - df) / q) : 0.0; }

std::optional<double> mean_f_statistic(const Instruments& instruments) {
  const std::size_t n = instruments.size();
  if (n == 0) return std::nullopt;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(instruments.bxse[i] > 0)) return std::nullopt;
    const double z = instruments.bx[i] / instruments.bxse[i];
    sum += z * z;
  }
  return sum / static_cast<double>(n);
}

std::optional<double> i_squared_gx(const Instruments& instruments) {
  const std::size_t n = instruments.size();
  if (n < 2) return std::nullopt;
  std::vector<double> gx(n), weight(n);
  double weight_sum = 0, weighted_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(instruments.bxse[i] > 0) || !(instruments.byse[i] > 0)) return std::nullopt;
    gx[i] = std::fabs(instruments.bx[i]) / instruments.byse[i];
    const double se = instruments.bxse[i] / instruments.byse[i];
    weight[i] = 1 / (se * se);
    weight_sum += weight[i];
    weighted_sum += weight[i] * gx[i];
  }
  const double mean = weighted_sum / weight_sum;
  double q = 0;
  for (std::size_t i = 0; i < n; ++i) q += weight[i] * (gx[i] - mean) * (gx[i] - mean);
  return i_squared(q, static_cast<double>(n - 1));
}

}  // namespace deepmr::stats
