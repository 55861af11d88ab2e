#pragma once
// Penalized weights (Burgess, Bowden, Dudbridge and Thompson 2016, arXiv:1606.03729), as
// MendelianRandomization 0.10.0 defines them for first-order ("simple") weights. Each instrument's
// weight is multiplied by min(1, c q_j), q_j the chi-squared(1) upper-tail p-value of its
// contribution to a heterogeneity statistic. The package's definitions differ by method:
//
//   ivw-penalized    q_j from (by_j - theta bx_j)^2 / byse_j^2, theta = median(by / bx) (the simple
//                    median of the ratios, not the IVW estimate); c = 100 (r.weights); then lm of by
//                    on bx without intercept, weights w_j = min(1, 100 q_j) / byse_j^2; SE as ivw,
//                    fixed below 4 instruments, random (max(1, RSE)) from 4 (model says which).
//   egger-penalized  q_j from the residuals of the ordinary (oriented) Egger fit, c = 100; then
//                    the Egger regression with those weights; SEs times max(1, RSE) and intervals as
//                    egger (egger.bounds under t).
//   median-penalized q_j from (bx_j / byse_j)^2 (ratio_j - WM)^2, WM the weighted median; c = 20;
//                    the weighted median with the weights (bx/byse)^2 min(1, 20 q_j), bootstrap SE with
//                    those weights fixed.
//
// (The paper's factor is 20; the package uses 100 for IVW and Egger with simple weights and 20 for the
// median and for second-order weights. We follow the package.) Weights that underflow to 0 drop the
// instrument from the regression, as R's lm does with zero weights; the t df stay J - 1 (J - 2), as
// the package's. Heterogeneity (q) is empty, as the package reports none for penalized fits.

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

MrResult fit_ivw_penalized(const Instruments& instruments, const MrOptions& options);
MrResult fit_egger_penalized(const Instruments& instruments, const MrOptions& options);
MrResult fit_median_penalized(const Instruments& instruments, const MrOptions& options);

}  // namespace deepmr::stats
