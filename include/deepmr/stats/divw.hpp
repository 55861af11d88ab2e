#pragma once
// Debiased inverse-variance weighted estimate (Ye, Shao and Kang 2021, Ann Stat 49:2079;
// MendelianRandomization::mr_divw with over.dispersion = TRUE):
//
//   beta  = sum(bx by / byse^2) / sum((bx^2 - bxse^2) / byse^2)
//   tau2  = max(0, sum(((by - beta bx)^2 - byse^2 - beta^2 bxse^2) / byse^2) / sum(1 / byse^2))
//   V1    = sum(bx^2 / byse^2 + beta^2 bxse^2 (bx^2 + bxse^2) / byse^4 + tau2 bx^2 / byse^4)
//   se    = sqrt(V1) / sum((bx^2 - bxse^2) / byse^2)
//
// (the package's V1 written with SE.ratio = bxse / byse and mu = bx / bxse multiplied out, so that
// bxse need not be nonzero in the middle of a product). The instrument-strength condition
// (mean (bx / bxse)^2 - 1) sqrt(J) goes into MrResult::condition, and below 20 (the package's advice)
// the fit carries a warning. Intervals and p-values are normal as in the package, or t with J - 1 df
// when asked (an extension). Every instrument is used, bx = 0 ones included (they add - bxse^2 / byse^2
// to the denominator).

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

MrResult fit_divw(const Instruments& instruments, const MrOptions& options);

}  // namespace deepmr::stats
