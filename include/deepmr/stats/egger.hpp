#pragma once
// MR-Egger (Bowden et al. 2015; MendelianRandomization::mr_egger): instruments oriented so that
// bx > 0, by regressed on bx with an intercept, weights 1 / byse^2. Slope and intercept SEs are
// the weighted-regression SEs at unit residual variance times max(1, residual SE). The t option
// (J - 2 df) follows MendelianRandomization: when the residual SE is below 1 the interval is the
// wider of the normal one and the t one at the estimated residual SE, and the p-value the larger.
// Also Rucker's Q (J - 2 df) and I^2_GX. Instruments with bx = 0 have no orientation and are left
// out (n_used says how many remain).

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

MrResult fit_egger(const Instruments& instruments, const MrOptions& options);

}  // namespace deepmr::stats
