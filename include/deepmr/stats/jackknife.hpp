#pragma once
// The grouped jackknife over Monte Carlo samples: an uncertainty of an MR estimate that accounts
// for the dropout masks every mutant and both outputs of a region share (docs/statistics.md,
// section "Jackknife over the samples").
//
// The N samples are split into G contiguous groups (sizes m_g, as equal as N and G allow). The
// whole region fit is repeated G times, each time with the per-mutant beta and se recomputed
// without one group's samples (ism::Effects::jackknife), giving the leave-group-out estimates
// theta_(-g). Their spread around the full-sample estimate theta is the delete-m_g jackknife
// (Busing, Meijer and van der Leeden 1999), which for equal groups is the usual
// sqrt((G - 1) / G sum_g (theta_(-g) - mean theta_(-))^2):
//   h_g = N / m_g,  pseudo_g = h_g theta - (h_g - 1) theta_(-g),
//   theta_J = G theta - sum_g (1 - m_g / N) theta_(-g),
//   var_J = (1 / G) sum_g (pseudo_g - theta_J)^2 / (h_g - 1).
// var_J estimates the Monte Carlo variance of theta (it falls as 1 / N). The standard MR SEs are on
// another scale: they take each mutant's se, the spread of its N paired differences (not divided
// by sqrt(N)), as its error, i.e. the spread of a fit under one mask draw. The jackknife's columns
// are put on that scale, se_jackknife = sqrt(N var_J): the spread of the region's slope across
// single mask draws with every correlation the shared masks induce (across mutants and between
// exposure and outcome), where the standard SE assumes none.

#include <optional>
#include <vector>

#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

// The delete-m_g jackknife standard error of `full` from its leave-group-out values and the
// groups' sizes; nothing when fewer than 2 groups, a size is not in (0, N), or a value is not finite.
std::optional<double> grouped_jackknife_se(double full, const std::vector<double>& leave_out,
                                           const std::vector<double>& group_sizes);

// Sizes of the G contiguous groups of N samples: sample n is in group n G / N (integer division).
std::vector<double> jackknife_group_sizes(int samples, int groups);

// Fills fit's se_jackknife (sqrt(N) times the grouped jackknife SE, N the sum of the sizes) and its Wald interval and p-value (ci_low_jackknife, ci_high_jackknife,
// pvalue_jackknife; normal, or t with the fit's df) from the leave-group-out fits of the same
// method. Left empty when the fit or any leave-group-out fit is not estimable.
void add_jackknife(MrResult& fit, const std::vector<MrResult>& leave_out, const std::vector<double>& group_sizes,
                   const MrOptions& options);

}  // namespace deepmr::stats
