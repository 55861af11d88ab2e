#pragma once
// R's median, and R's mad, of values that change a little from call to call (the bootstrap draws
// of the mode-based estimate, mode.cpp), without a full selection per call.
//
// A median is an order statistic: any exact selection returns the same value (nth_element leaves
// only the sign of a zero among equal zeros open, which no caller here can see: mad takes |x - m|).
// MedianSelector keeps a bracket [low, high] of values around the previous medians and selects
// among the values inside it only; when the median falls outside, it selects over all values and
// brackets anew, wider.

#include <cstddef>
#include <vector>

namespace deepmr::stats::detail {

class MedianSelector {
 public:
  // The value of median_of(values) (mr_support.hpp); values.size() >= 1.
  double operator()(const std::vector<double>& values);
  std::size_t full_selections() const { return full_selections_; }

 private:
  double full(const std::vector<double>& values);

  std::vector<double> scratch_;
  bool have_bracket_ = false;
  double low_ = 0, high_ = 0;
  std::size_t margin_divisor_ = 32;  // the bracket holds about n / margin_divisor_ ranks on either side
  std::size_t full_selections_ = 0;
};

// R's mad (1.4826 median |x - median(x)|) with a MedianSelector for each median.
class MadSelector {
 public:
  double operator()(const std::vector<double>& values);

 private:
  MedianSelector center_, spread_;
  std::vector<double> deviations_;
};

}  // namespace deepmr::stats::detail
