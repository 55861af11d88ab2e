#pragma once
// Mode-based estimate (Hartwig et al. 2017; MendelianRandomization::mr_mbe with its defaults:
// weighted, delta standard errors, phi = 1). The ratio estimates b = by / bx with second-order
// SEs s = sqrt(byse^2 / bx^2 + by^2 bxse^2 / bx^4) are smoothed by a normal kernel with weights
// s^-2 (normalised) and bandwidth phi * 0.9 min(sd(b), mad(b)) / J^(1/5); the estimate is the
// highest point of that density on R's 512-point grid (kernel_density.hpp). SE: the median
// absolute deviation (R's mad, constant 1.4826) of estimates over bootstrap draws b ~ N(b, s^2),
// weights kept fixed. Instruments with bx = 0 are left out. Where R's grid is too coarse for the
// bandwidth (far-out ratios), the mode is looked for over the central mass instead, and the
// result's reason says so (density_mode.hpp; a deliberate difference from R).

#include <vector>

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

MrResult fit_mode(const Instruments& instruments, const MrOptions& options);

// The estimate alone for ratio estimates and their (normalised or not) weights; NaN when the
// bandwidth is not positive.
double mode_based_estimate(const std::vector<double>& ratios, const std::vector<double>& weights, double phi);

}  // namespace deepmr::stats
