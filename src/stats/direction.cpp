#include "deepmr/stats/direction.hpp"

#include <cmath>
#include <limits>

#include "deepmr/stats/distributions.hpp"
#include "deepmr/stats/jackknife.hpp"

namespace deepmr::stats {

DirectionResult direction_test(const Instruments& instruments, double min_abs_z_x) {
  DirectionResult result;
  if (const auto invalid = invalid_instruments(instruments)) {
    result.reason = *invalid;
    return result;
  }
  const auto kept = select_instruments(instruments, min_abs_z_x).kept;
  // Sums in the canonical order select_instruments gives: the same bits for any input order. A
  // mutant that does not move the exposure under any sample (bx = bxse = 0) is not its instrument.
  double mean_x = 0, total_x = 0, mean_y = 0, total_y = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (kept.bx[i] == 0 && kept.bxse[i] == 0) continue;
    ++result.n_used;
    mean_x += kept.bx[i] * kept.bx[i];
    total_x += kept.bx[i] * kept.bx[i] + kept.bxse[i] * kept.bxse[i];
    mean_y += kept.by[i] * kept.by[i];
    total_y += kept.by[i] * kept.by[i] + kept.byse[i] * kept.byse[i];
  }
  if (result.n_used == 0 || !(total_x > 0) || !(total_y > 0)) {
    result.reason = result.n_used == 0 ? "no instrument moves the exposure"
                                       : "the outcome does not move under any instrument or sample";
    return result;
  }
  result.estimable = true;
  result.r2_exposure = mean_x / total_x;
  result.r2_outcome = mean_y / total_y;
  result.difference = *result.r2_exposure - *result.r2_outcome;
  return result;
}

void add_direction_jackknife(DirectionResult& result, const std::vector<DirectionResult>& leave_out,
                             const std::vector<double>& group_sizes) {
  if (!result.estimable) return;
  std::vector<double> differences;
  for (const auto& r : leave_out) {
    if (!r.estimable) return;
    differences.push_back(*r.difference);
  }
  const auto se = grouped_jackknife_se(*result.difference, differences, group_sizes);
  if (!se || !(*se > 0)) return;
  result.se = *se;
  result.z = *result.difference / *se;
  result.pvalue = wald_summary(*result.difference, *se, Distribution::normal, 0, 0.95).pvalue;
}

const std::vector<const char*>& direction_columns() {
  static const std::vector<const char*> names = {"r2_exposure", "r2_outcome", "difference", "se", "z", "pvalue", "n_used"};
  return names;
}

std::vector<double> column_values(const DirectionResult& r) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {r.r2_exposure.value_or(nan), r.r2_outcome.value_or(nan), r.difference.value_or(nan), r.se.value_or(nan),
          r.z.value_or(nan),           r.pvalue.value_or(nan),     static_cast<double>(r.n_used)};
}

}  // namespace deepmr::stats
