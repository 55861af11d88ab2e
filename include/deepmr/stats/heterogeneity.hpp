#pragma once
// Heterogeneity and instrument-strength statistics shared by the MR methods.

#include <optional>
#include <vector>

#include "deepmr/stats/instruments.hpp"

namespace deepmr::stats {

// I^2 from a heterogeneity statistic: max(0, (Q - df) / Q), a fraction in [0, 1]; 0 when Q = 0.
double i_squared(double q, double df);

// Mean F statistic of the instruments: mean of (bx / bxse)^2. Empty when any bxse is zero or
// there are no instruments.
std::optional<double> mean_f_statistic(const Instruments& instruments);

// I^2_GX (Bowden et al. 2016): I^2 of the oriented |bx| / byse with standard errors bxse / byse,
// the "no measurement error" check of MR-Egger. Empty when any bxse is zero or fewer than 2.
std::optional<double> i_squared_gx(const Instruments& instruments);

}  // namespace deepmr::stats
