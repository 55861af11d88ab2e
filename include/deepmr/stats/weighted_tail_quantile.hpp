#pragma once
// The weighted tail quantiles of the central-mass density grid (density_mode.cpp), repeated over
// bootstrap draws without a full selection per draw.
//
// The definition is a weighted quickselect by repeated halving (weighted_lower_quantile_by_halving):
// it compares floating-point sums of weights, taken in the order in which nth_element leaves the
// values, with the mass. So the fast path here returns its answer only where no rounding can
// change it: where the exact cumulative weights just below and at the answer stand further from
// the mass than any rounding of either computation (n ulps of the total, with room to spare).
// Otherwise, and whenever its guess fails, it runs the definition itself.
//
// The guess: a bracket of values remembered from the previous draws (the values at which the
// cumulative weight reached (1 -+ spread) times the mass); one pass sums the weight below it and
// gathers the values inside it, which are sorted and walked. (The tails hold many values of tiny
// weight, far-out ratios of weak instruments, so the bracket needs its lower end.) Weights must be
// >= 0 for the bound; with a negative weight, or a NaN, the definition runs.

#include <cstddef>
#include <utility>
#include <vector>

namespace deepmr::stats {

// The smallest value whose weight at or below it reaches `mass`, as density_mode.cpp has always
// computed it (scrambles `pairs`, (value, weight)).
double weighted_lower_quantile_by_halving(std::vector<std::pair<double, double>>& pairs, double mass);

class WeightedTailQuantile {
 public:
  // weighted_lower_quantile_by_halving of the pairs (values[i], weights[i]), bit for bit; `total`
  // is the sum of the weights.
  double lower(const std::vector<double>& values, const std::vector<double>& weights, double mass, double total) {
    return quantile(values, weights, mass, total, 1.0, lower_);
  }
  // -weighted_lower_quantile_by_halving of the pairs (-values[i], weights[i]), bit for bit.
  double upper(const std::vector<double>& values, const std::vector<double>& weights, double mass, double total) {
    return quantile(values, weights, mass, total, -1.0, upper_);
  }
  std::size_t definitions_run() const { return definitions_run_; }

 private:
  struct Bracket {  // of keys sign * value
    bool known = false;
    double low = 0, high = 0;
    double spread = 0.25;  // the bracket's weight either side of the mass, in masses
  };
  double quantile(const std::vector<double>& values, const std::vector<double>& weights, double mass, double total,
                  double sign, Bracket& bracket);
  double definition(const std::vector<double>& values, const std::vector<double>& weights, double mass, double sign,
                    Bracket& bracket);

  Bracket lower_, upper_;
  std::vector<std::pair<double, double>> pairs_;  // (sign * value, weight)
  std::vector<std::size_t> inside_;               // indices of the values inside the bracket
  std::size_t definitions_run_ = 0;
};

}  // namespace deepmr::stats
