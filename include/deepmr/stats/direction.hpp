#pragma once
// Which direction the instruments support, for ISM effects: a Steiger-style comparison
// (Hemani, Tilling and Davey Smith 2017) adapted to mutants and Monte Carlo dropout
// (docs/statistics.md, section 3e).
//
// Steiger compares the share of the exposure's and of the outcome's variance the instruments
// explain; that share needs a sample size, which ISM effects have not. Their analogue here is the
// share of each output's paired differences (over the mutants and the samples) that the
// instruments' mean effects carry:
//   r2_x = sum_m bx_m^2 / sum_m (bx_m^2 + bxse_m^2)   (mean square of d_n over the second moment),
// and r2_y the same with by, byse. When x mediates the instruments' effect on y (by = gamma bx, and
// y's differences are x's propagated plus noise of y's own: byse^2 = gamma^2 bxse^2 + s_y^2),
// r2_y <= r2_x; when y mediates their effect on x, r2_x <= r2_y. difference = r2_x - r2_y > 0
// supports exposure -> outcome. Its standard error is the grouped jackknife over the samples (the
// Monte Carlo SE of the difference, not rescaled: there is no single-draw scale for a share), with
// a normal z and two-sided p.

#include <optional>
#include <string>
#include <vector>

#include "deepmr/stats/instruments.hpp"

namespace deepmr::stats {

struct DirectionResult {
  bool estimable = false;
  std::string reason;  // not estimable: why
  std::optional<double> r2_exposure, r2_outcome, difference, se, z, pvalue;
  std::size_t n_used = 0;  // instruments used: MR's selection (select_instruments) that move the exposure
};

// The shares and their difference over the instruments select_instruments keeps with this filter
// that move the exposure (bx or bxse not 0: a mutant with neither is not the exposure's
// instrument); no SE (add_direction_jackknife gives it).
DirectionResult direction_test(const Instruments& instruments, double min_abs_z_x = 0);

// The SE, z and p of the difference from the same test on each group's leave-group-out effects
// (stats/jackknife.hpp's grouped jackknife). Left empty when any of them is not estimable.
void add_direction_jackknife(DirectionResult& result, const std::vector<DirectionResult>& leave_out,
                             const std::vector<double>& group_sizes);

// The numeric columns, in store order: r2_exposure, r2_outcome, difference, se, z, pvalue, n_used.
const std::vector<const char*>& direction_columns();
std::vector<double> column_values(const DirectionResult& result);  // NaN where empty

}  // namespace deepmr::stats
