#pragma once
// Contamination mixture (Burgess, Foley, Allara, Staley and Howson 2020, Nat Commun 11:376;
// MendelianRandomization::mr_conmix with its defaults). Ratio estimates r_j = by_j / bx_j with
// first-order SEs s_j = byse_j / |bx_j|. At each theta of a grid, instrument j contributes the larger
// of its log-likelihood as valid, log N(r_j; theta, s_j^2), and as invalid, log N(r_j; 0, psi^2 + s_j^2);
// the sum is the profile log-likelihood l(theta). psi defaults to 1.5 x sd(r).
//
// Grid: theta_k = lo + k step, k = 0 .. floor((hi - lo) / step + 1e-10) (R's seq, the last point
// clipped to hi), step 0.01, lo = min_j (r_j - 2 s_j), hi = max_j (r_j + 2 s_j): the ends of the
// instruments' own 95% intervals, as the package's manual says. (Its code takes min((by - 2 byse) /
// bx), which is r_j + 2 s_j where bx_j < 0: that depends on the alleles' orientation, this does not.)
// The estimate is the grid point of highest l (the first such). phi = max(1, RSE of the IVW fit of the
// instruments valid there) (1 when at most one is valid); the confidence set is every grid point with
// 2 l(theta) > 2 max l - chi2_{level,1} phi^2, which may be several disjoint ranges (intervals; ci_low,
// ci_high the outer ends). The p-value is the package's: the chi-squared(1) upper tail of
// 2 (max l - l(0)) phi^2 (l(0) exactly at 0). There is no SE, and the distribution option does not
// apply (likelihood intervals).

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

MrResult fit_conmix(const Instruments& instruments, const MrOptions& options);

}  // namespace deepmr::stats
