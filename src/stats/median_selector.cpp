#include "median_selector.hpp"

#include <algorithm>
#include <cmath>

namespace deepmr::stats::detail {

double MedianSelector::full(const std::vector<double>& values) {
  ++full_selections_;
  const std::size_t n = values.size(), half = n / 2;
  scratch_ = values;
  const auto begin = scratch_.begin();
  const auto at = [&](std::size_t i) { return begin + static_cast<std::ptrdiff_t>(i); };
  std::nth_element(begin, at(half), scratch_.end());
  const double upper = scratch_[half];
  const double median = n % 2 == 1 ? upper : (*std::max_element(begin, at(half)) + upper) / 2;

  // Bracket the next medians by the values `margin` ranks either side of this one (the parts
  // below and above `half` are already split, so each is one more selection within a part).
  const std::size_t margin = std::max<std::size_t>(4, n / margin_divisor_);
  if (half > margin + 1 && half + margin < n) {
    std::nth_element(begin, at(half - 1 - margin), at(half));
    low_ = scratch_[half - 1 - margin];
    std::nth_element(at(half + 1), at(half + margin), scratch_.end());
    high_ = scratch_[half + margin];
    have_bracket_ = low_ <= high_;  // false with NaN
  }
  return median;
}

double MedianSelector::operator()(const std::vector<double>& values) {
  const std::size_t n = values.size(), half = n / 2;
  if (!have_bracket_) return full(values);

  // One branch-free pass: the count below the bracket, above it, and the values inside it.
  scratch_.resize(n);
  const double low = low_, high = high_;
  std::size_t below = 0, above = 0, inside = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i];
    below += v < low;
    above += v > high;
    scratch_[inside] = v;
    inside += (v >= low) & (v <= high);
  }
  // Both middle ranks (one for odd n) must lie inside, and every value be ordered (no NaN).
  const std::size_t lowest_rank = n % 2 == 1 ? half : half - 1;
  if (below + inside + above == n && below <= lowest_rank && half < below + inside) {
    const auto begin = scratch_.begin();
    const auto middle = begin + static_cast<std::ptrdiff_t>(half - below);
    std::nth_element(begin, middle, begin + static_cast<std::ptrdiff_t>(inside));
    const double upper = *middle;
    if (n % 2 == 1) return upper;
    return (*std::max_element(begin, middle) + upper) / 2;
  }
  margin_divisor_ = std::max<std::size_t>(2, margin_divisor_ / 2);
  return full(values);
}

double MadSelector::operator()(const std::vector<double>& values) {
  const double center = center_(values);
  deviations_.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) deviations_[i] = std::fabs(values[i] - center);
  return 1.4826 * spread_(deviations_);
}

}  // namespace deepmr::stats::detail
