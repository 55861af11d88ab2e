#include "deepmr/stats/weighted_tail_quantile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace deepmr::stats {
namespace {

bool key_before(const std::pair<double, double>& a, const std::pair<double, double>& b) { return a.first < b.first; }

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

  // One branch-free pass: the weight below the bracket and the pairs inside it; every key ordered
  // (no NaN) and every weight >= 0, or the bound below does not hold.
  pairs_.resize(n);
  const double low = bracket.low, high = bracket.high;
  double below_weight = 0;
  std::size_t below = 0, inside = 0, above = 0;
  bool weights_usable = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double key = sign * values[i], weight = weights[i];
    weights_usable &= weight >= 0;
    below_weight += key < low ? weight : 0.0;
    below += key < low;
    above += key > high;
    pairs_[inside] = {key, weight};
    inside += (key >= low) & (key <= high);
  }
  if (weights_usable && below + inside + above == n && std::isfinite(total)) {
    std::sort(pairs_.begin(), pairs_.begin() + static_cast<std::ptrdiff_t>(inside), key_before);
    // Every sum of weights either computation forms is off by at most n ulps of the total (the
    // definition's running mass by about three times that); beyond 8 (n + 8) ulps no decision of
    // the definition can differ from the exact one, and the exact answer is the one found here.
    const double margin = 8 * (static_cast<double>(n) + 8) * std::numeric_limits<double>::epsilon() / 2 * total;
    double before = below_weight;
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
