#pragma once
// The weighted median of MendelianRandomization (Bowden et al. 2016): order the values, give
// value j the position s_j = (cumulative weight up to j - w_j / 2) / total weight, and
// interpolate linearly between the two values whose positions straddle 1/2.
//
// Weights are first turned into integers (FixedWeights: each weight's share of the total in units
// of 2^-62), so that the positions are exact sums and do not depend on the order in which they are
// added. That is what lets WeightedMedianSelector find the answer with one partitioning pass and
// a small sort, and still return bit for bit the value of the sort-based definition (to which it
// falls back whenever its guess fails). Ties in value are ordered by weight.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deepmr::stats {

// Non-negative finite weights, with a positive total, as exact integer shares.
class FixedWeights {
 public:
  explicit FixedWeights(const std::vector<double>& weights);
  std::size_t size() const { return shares_.size(); }
  std::uint64_t operator[](std::size_t i) const { return shares_[i]; }
  const std::uint64_t* data() const { return shares_.data(); }
  std::uint64_t total() const { return total_; }

 private:
  std::vector<std::uint64_t> shares_;
  std::uint64_t total_ = 0;
};

// The definition: sorts (value, share) pairs and walks the cumulative positions. values.size()
// must equal weights.size() and be at least 1. NaN values sort after everything else.
double weighted_median(const std::vector<double>& values, const FixedWeights& weights);

// Repeated weighted medians of values that change (bootstrap draws) under fixed weights. It
// remembers a bracket [low, high] around the previous answers and only sorts the values inside it.
class WeightedMedianSelector {
 public:
  explicit WeightedMedianSelector(const FixedWeights& weights) : weights_(weights) {}
  // Equal, bit for bit, to weighted_median(values, weights).
  double operator()(const std::vector<double>& values);
  std::size_t fallbacks() const { return fallbacks_; }

 private:
  struct Entry {
    double value;
    std::uint64_t share;
  };
  double full(const std::vector<double>& values);

  const FixedWeights& weights_;
  std::vector<Entry> scratch_;
  bool have_bracket_ = false;
  double low_ = 0, high_ = 0;
  double bracket_share_ = 0.02;  // the share of total weight kept on either side of 1/2
  std::size_t fallbacks_ = 0;
};

}  // namespace deepmr::stats
