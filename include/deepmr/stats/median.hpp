#pragma once
// Median estimators (Bowden et al. 2016; MendelianRandomization::mr_median): the weighted median
// of the ratio estimates by / bx with first-order weights (bx / byse)^2, or the simple median
// (equal weights). SE: standard deviation of the estimates over bootstrap draws that resample
// bx ~ N(bx, bxse^2) and by ~ N(by, byse^2), weights kept fixed. Instruments with bx = 0 have no
// ratio estimate and are left out.

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

MrResult fit_median(const Instruments& instruments, bool weighted, const MrOptions& options);

}  // namespace deepmr::stats
