#include "deepmr/stats/weighted_median.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {
namespace {

// Sorting order of (value, share): by value (NaN last), ties by share.
template <class Entry>
bool entry_before(const Entry& a, const Entry& b) {
  const bool a_nan = std::isnan(a.value), b_nan = std::isnan(b.value);
  if (a_nan != b_nan) return b_nan;
  if (a.value != b.value) return a.value < b.value;
  return a.share < b.share;
}

// Position test without rounding: s_j < 1/2  <=>  2 P_j + q_j < Q, where P_j is the total share
// before j and Q the total. With the crossing element m (the first with s_m >= 1/2) and its
// predecessor k, the estimate interpolates v_k + (v_m - v_k) (1/2 - s_k) / (s_m - s_k), and
// (1/2 - s_k) / (s_m - s_k) = (Q - 2 P_k - q_k) / (q_k + q_m), both exact integers.
double interpolate(double value_k, std::uint64_t share_k, std::uint64_t before_k, double value_m,
                   std::uint64_t share_m, std::uint64_t total) {
  const double ratio = static_cast<double>(total - 2 * before_k - share_k) / static_cast<double>(share_k + share_m);
  return value_k + (value_m - value_k) * ratio;
}

struct SortedEntry {
  double value;
  std::uint64_t share;
};

// Walks sorted entries from a running share `before` (the total share of the entries that sort
// before `first`). `predecessor` is the entry just before `first`, or null when it is not known;
// `nothing_before` says that no entry at all sorts before `first`. Returns false when the answer
// cannot be found here: the crossing lies past `last`, or its predecessor is not known.
template <class It, class Entry>
bool walk(It first, It last, std::uint64_t before, const Entry* predecessor, bool nothing_before, std::uint64_t total,
          double& out) {
  for (It it = first; it != last; ++it) {
    if (2 * before + it->share >= total) {
      const Entry* k = it == first ? predecessor : &*(it - 1);
      if (!k) {
        if (!nothing_before) return false;  // the predecessor exists but is not known here
        out = it->value;                    // all weight sits on the first value
        return true;
      }
      out = interpolate(k->value, k->share, before - k->share, it->value, it->share, total);
      return true;
    }
    before += it->share;
  }
  return false;
}

// The same answer as sorting [first, last) and walking it, in expected linear time: a weighted
// quickselect that keeps only the part holding the crossing, and remembers the largest entry of
// the parts it drops below it (the crossing's predecessor when the crossing starts a part).
template <class Entry>
bool select_crossing(Entry* first, Entry* last, std::uint64_t before, bool nothing_before, std::uint64_t total,
                     double& out) {
  Entry predecessor{};
  bool have_predecessor = false;
  while (last - first > 32) {
    Entry* middle = first + (last - first) / 2;
    // Median of three as the pivot.
    Entry a = *first, b = *middle, c = *(last - 1);
    if (entry_before(b, a)) std::swap(a, b);
    if (entry_before(c, b)) std::swap(b, c);
    if (entry_before(b, a)) std::swap(a, b);
    const Entry pivot = b;
    // Three-way partition: [first, less) < pivot, [less, greater) equal, [greater, last) > pivot.
    Entry* less = first;
    Entry* greater = last;
    std::uint64_t less_share = 0;
    for (Entry* it = first; it < greater;) {
      if (entry_before(*it, pivot)) {
        less_share += it->share;
        std::swap(*less++, *it++);
      } else if (entry_before(pivot, *it)) {
        std::swap(*it, *--greater);
      } else {
        ++it;
      }
    }
    if (less > first) {
      const Entry largest_less = *std::max_element(first, less, entry_before<Entry>);
      // The crossing lies below the pivot when the largest entry below it already crosses.
      if (2 * (before + less_share) - largest_less.share >= total) {
        last = less;
        continue;
      }
      predecessor = largest_less;
      have_predecessor = true;
    }
    before += less_share;
    // Entries equal to the pivot are interchangeable: find the first of them that crosses.
    const std::uint64_t equal = static_cast<std::uint64_t>(greater - less), q = pivot.share;
    if (2 * (before + (equal - 1) * q) + q >= total) {
      std::uint64_t j = 0;
      while (2 * (before + j * q) + q < total) ++j;
      const std::uint64_t at = before + j * q;
      if (j > 0) {
        out = interpolate(pivot.value, q, at - q, pivot.value, q, total);
        return true;
      }
      if (!have_predecessor) {
        if (!nothing_before) return false;
        out = pivot.value;
        return true;
      }
      out = interpolate(predecessor.value, predecessor.share, at - predecessor.share, pivot.value, q, total);
      return true;
    }
    before += equal * q;
    predecessor = pivot;
    have_predecessor = true;
    nothing_before = false;
    first = greater;
  }
  std::sort(first, last, entry_before<Entry>);
  return walk(first, last, before, have_predecessor ? &predecessor : static_cast<const Entry*>(nullptr),
              nothing_before, total, out);
}

struct BelowBracket {
  std::uint64_t share = 0;
  std::size_t count = 0;
};

__attribute__((target_clones("avx512f", "avx2", "default"))) BelowBracket count_below(
    const double* __restrict values, const std::uint64_t* __restrict shares, std::size_t n, double low) {
  std::uint64_t share = 0, count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t is_below = values[i] < low;
    share += shares[i] & (0 - is_below);
    count += is_below;
  }
  return {share, static_cast<std::size_t>(count)};
}

}  // namespace

FixedWeights::FixedWeights(const std::vector<double>& weights) {
  double sum = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w)) throw InternalError("stats: weighted median weights must be finite and >= 0");
    sum += w;
  }
  if (!(sum > 0)) throw InternalError("stats: weighted median weights sum to zero");
  // 2^62 in all: twice the total plus one share still fits in 64 bits.
  const double scale = 0x1.0p62 / sum;
  shares_.reserve(weights.size());
  for (double w : weights) {
    const auto share = static_cast<std::uint64_t>(std::llround(w * scale));
    shares_.push_back(share);
    total_ += share;
  }
  if (total_ == 0) throw InternalError("stats: weighted median weights round to zero");
}

double weighted_median(const std::vector<double>& values, const FixedWeights& weights) {
  if (values.size() != weights.size() || values.empty())
    throw InternalError("stats: weighted_median needs one weight per value and at least one value");
  std::vector<SortedEntry> entries(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) entries[i] = {values[i], weights[i]};
  std::sort(entries.begin(), entries.end(), entry_before<SortedEntry>);
  double out = NAN;
  walk(entries.begin(), entries.end(), 0, static_cast<const SortedEntry*>(nullptr), true, weights.total(), out);
  return out;
}

double WeightedMedianSelector::full(const std::vector<double>& values) {
  ++fallbacks_;
  const std::size_t n = values.size();
  scratch_.resize(n);
  for (std::size_t i = 0; i < n; ++i) scratch_[i] = {values[i], weights_[i]};
  std::sort(scratch_.begin(), scratch_.end(), entry_before<Entry>);
  double out = NAN;
  walk(scratch_.begin(), scratch_.end(), 0, static_cast<const Entry*>(nullptr), true, weights_.total(), out);

  // Bracket the next answers by the values this draw has around the crossing: the range of
  // values within bracket_share_ of the total weight on either side of it.
  const std::uint64_t total = weights_.total();
  const auto margin = static_cast<std::uint64_t>(bracket_share_ * static_cast<double>(total));
  have_bracket_ = false;
  if (!std::isnan(out)) {
    std::uint64_t below = 0, above = 0;
    double low = out, high = out;
    const auto crossing = std::lower_bound(scratch_.begin(), scratch_.end(), out,
                                           [](const Entry& e, double v) { return e.value < v; });
    for (auto it = crossing; it != scratch_.begin() && below < margin;) {
      --it;
      below += it->share;
      low = it->value;
    }
    for (auto it = crossing; it != scratch_.end() && above < margin; ++it) {
      above += it->share;
      high = it->value;
    }
    low_ = low;
    high_ = high;
    have_bracket_ = !std::isnan(low_) && !std::isnan(high_);
  }
  return out;
}

double WeightedMedianSelector::operator()(const std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n != weights_.size() || n == 0)
    throw InternalError("stats: WeightedMedianSelector needs one value per weight and at least one value");
  if (!have_bracket_) return full(values);

  // The share and count strictly below the bracket (integers: any order of addition gives the
  // same sums, so lane by lane); then the entries inside it, without branches.
  scratch_.resize(n);
  const double low = low_, high = high_;
  const BelowBracket below_bracket = count_below(values.data(), weights_.data(), n, low);
  const std::uint64_t below = below_bracket.share;
  const std::size_t below_count = below_bracket.count;
  std::size_t inside = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i];
    scratch_[inside] = {v, weights_[i]};
    inside += static_cast<std::size_t>((v >= low) & (v <= high));
  }
  double out = NAN;
  // The crossing and its predecessor must both lie inside the bracket; otherwise widen and redo.
  if (select_crossing(scratch_.data(), scratch_.data() + inside, below, below_count == 0, weights_.total(), out))
    return out;
  bracket_share_ = std::min(0.5, bracket_share_ * 2);
  return full(values);
}

}  // namespace deepmr::stats
