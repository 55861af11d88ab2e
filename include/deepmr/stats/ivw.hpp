#pragma once
// Inverse-variance weighted estimate (MendelianRandomization::mr_ivw, simple first-order weights):
// the weighted regression of by on bx without intercept, weights 1 / byse^2. The fixed-effect SE
// is 1 / sqrt(sum bx^2 / byse^2); multiplicative random effects multiply it by max(1, residual SE).
// Also Cochran's Q = sum (by - estimate bx)^2 / byse^2 with J - 1 df, its p-value and I^2.
// MrOptions::ivw_weights = delta swaps 1 / byse^2 for mr_ivw's second-order weights throughout (the
// regression, its SEs and Q), with each instrument's psi (Instruments::psi, else MrOptions::psi).

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

enum class IvwModel { automatic, fixed, random };  // automatic: fixed below 4 instruments

// Fits the instruments as given (fit_mr validates, filters and orders them first).
MrResult fit_ivw(const Instruments& instruments, IvwModel model, const MrOptions& options);

}  // namespace deepmr::stats
