#include "deepmr/stats/weighted_tail_quantile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace deepmr::stats {
namespace {

bool key_before(const std::pair<double, double>& a, const std::pair<double, double>& b) { return a.first < b.first; }

struct BracketCounts {
  std::size_t below = 0, inside = 0, above = 0, negative_weights = 0;
  double below_weight = 0;
};

// Eight lanes, as wide as the CPU runs them: each lane sums the weights below over its own
// values in index order, and the lanes are added last.
__attribute__((target_clones("avx512f", "avx2", "default"))) BracketCounts count_bracket(
    const double* __restrict values, const double* __restrict weights, std::size_t n, double sign, double low,
    double high) {
  constexpr std::size_t kLanes = 8;
  double sums[kLanes] = {};
  std::size_t below[kLanes] = {}, inside[kLanes] = {}, above[kLanes] = {}, negative[kLanes] = {};
  const auto count = [&](std::size_t i, std::size_t lane) {
    const double key = sign * values[i], weight = weights[i];
    negative[lane] += !(weight >= 0);
    sums[lane] += key < low ? weight : 0.0;
    below[lane] += key < low;
    above[lane] += key > high;
    inside[lane] += (key >= low) & (key <= high);
  };
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t lane = 0; lane < kLanes; ++lane) count(i + lane, lane);
  for (; i < n; ++i) count(i, i % kLanes);
  BracketCounts counts;
  for (std::size_t lane = 0; lane < kLanes; ++lane) {
    counts.below += below[lane];
    counts.inside += inside[lane];
    counts.above += above[lane];
    counts.negative_weights += negative[lane];
    counts.below_weight += sums[lane];
  }
  return counts;
}

}  // namespace

double weighted_lower_quantile_by_halving(std::vector<std::pair<double, double>>& pairs, double mass) {
  auto first = pairs.begin(), last = pairs.end();
  while (last - first > 1) {
    const auto middle = first + (last - first) / 2;
    std::nth_element(first, middle, last, key_before);
    double below = 0;
    for (auto it = first; it != middle; ++it) below += it->second;
    if (below >= mass) {
      last = middle;  // reached within the lower part
    } else {
      mass -= below;
      first = middle;
    }
  }
  return first->first;
}

double WeightedTailQuantile::definition(const std::vector<double>& values, const std::vector<double>& weights,
                                        double mass, double sign, Bracket& bracket) {
  ++definitions_run_;
  const std::size_t n = values.size();
  // The bracket for the next draws, from this draw's sorted keys.
  pairs_.resize(n);
  for (std::size_t i = 0; i < n; ++i) pairs_[i] = {sign * values[i], weights[i]};
  std::sort(pairs_.begin(), pairs_.end(), key_before);
  const double low_mass = (1 - bracket.spread) * mass, high_mass = (1 + bracket.spread) * mass;
  bracket.low = -std::numeric_limits<double>::infinity();
  bracket.known = false;
  double cumulative = 0;
  for (const auto& [key, weight] : pairs_) {
    cumulative += weight;
    if (low_mass > 0 && cumulative < low_mass) bracket.low = key;
    if (cumulative >= high_mass) {
      bracket.high = key;
      bracket.known = std::isfinite(key) && !std::isnan(bracket.low);
      break;
    }
  }
  // The answer: the definition on the pairs in the order it has always had them.
  for (std::size_t i = 0; i < n; ++i) pairs_[i] = {sign * values[i], weights[i]};
  return sign * weighted_lower_quantile_by_halving(pairs_, mass);
}

double WeightedTailQuantile::quantile(const std::vector<double>& values, const std::vector<double>& weights,
                                      double mass, double total, double sign, Bracket& bracket) {
  const std::size_t n = values.size();
  if (!bracket.known) return definition(values, weights, mass, sign, bracket);

  // The weight below the bracket (in eight running sums, which the margin below allows; one
  // would wait on each addition), the counts below, inside and above it (every key ordered, no
  // NaN) and whether every weight is >= 0, or the bound below does not hold; then the indices
  // inside, a few.
  const double low = bracket.low, high = bracket.high;
  const BracketCounts counts = count_bracket(values.data(), weights.data(), n, sign, low, high);
  const std::size_t below = counts.below, inside = counts.inside, above = counts.above;
  const bool weights_usable = counts.negative_weights == 0;
  inside_.resize(n);
  std::size_t* indices = inside_.data();
  for (std::size_t i = 0, k = 0; i < n; ++i) {
    const double key = sign * values[i];
    indices[k] = i;
    k += (key >= low) & (key <= high);
  }
  if (weights_usable && below + inside + above == n && std::isfinite(total)) {
    pairs_.resize(inside);
    for (std::size_t k = 0; k < inside; ++k) pairs_[k] = {sign * values[inside_[k]], weights[inside_[k]]};
    std::sort(pairs_.begin(), pairs_.begin() + static_cast<std::ptrdiff_t>(inside), key_before);
    // Every sum of weights either computation forms is off by at most n ulps of the total (the
    // definition's running mass by about three times that); beyond 8 (n + 8) ulps no decision of
    // the definition can differ from the exact one, and the exact answer is the one found here.
    const double margin = 8 * (static_cast<double>(n) + 8) * std::numeric_limits<double>::epsilon() / 2 * total;
    double before = counts.below_weight;
    for (std::size_t i = 0; i < inside;) {
      const double key = pairs_[i].first;
      double at = before;
      for (; i < inside && pairs_[i].first == key; ++i) at += pairs_[i].second;
      if (at >= mass) {
        if (before <= mass - margin && at >= mass + margin) return sign * key;
        break;
      }
      before = at;
    }
  }
  bracket.spread = std::min(4.0, 2 * bracket.spread);
  return definition(values, weights, mass, sign, bracket);
}

}  // namespace deepmr::stats
