#pragma once
// Robust IVW and MR-Egger (MendelianRandomization's robust = TRUE, alone or with penalized = TRUE):
// the package fits robustbase::lmrob(by ~ bx - 1 (or by ~ bx), weights = w, k.max = 500,
// maxit.scale = 500) with lmrob's defaults, which is reproduced here:
//
//   - weights enter as lm's do: rows multiplied by sqrt(w) (rows with w = 0 left out);
//   - S-estimate: the coefficients minimising the M-scale s, sum chi(r_i / s) / (n - p) = 1/2, chi
//     Tukey's bisquare rho normalised to 1 with c = 1.54764 (breakdown 50%); candidates from elemental
//     subsets (every one of them up to 3,000, else 500 drawn from MrOptions::seed, as fast-S draws
//     500), each refined by S-IRWLS, the one of lowest scale kept;
//   - MM-estimate: IRWLS with bisquare psi, c = 4.685061 (95% efficiency), from the S coefficients,
//     the scale fixed at the S scale;
//   - covariance: robustbase's .vcov.avar1 (the asymptotic covariance of the MM-estimate given the S
//     start; negative eigenvalues set to 0 as its "posdefify");
//
// and the package's use of it: SE = lmrob's SE / min(1, s) (ivw-robust from 4 instruments, egger-robust;
// ivw-robust below 4: / s, the package's fixed effect), intervals and p-values as ivw and egger.
// Heterogeneity: ivw-robust q = (J - 1) s^2 (the package's); egger-robust q = sum ((by - a - b bx) /
// byse)^2 at the robust fit; empty for the penalized forms (the package reports none). residual_se = s.
// Iterations run to 1e-13 relative change, tighter than lmrob's 1e-7: R's printed digits agree to
// about 1e-7 relative.

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

MrResult fit_ivw_robust(const Instruments& instruments, bool penalized, const MrOptions& options);
MrResult fit_egger_robust(const Instruments& instruments, bool penalized, const MrOptions& options);

}  // namespace deepmr::stats
