#include "double_range.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace deepmr::stats::detail {
namespace {

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

bool normal_positive(double value) { return std::isfinite(value) && value >= std::numeric_limits<double>::min(); }

const char* const kAdvice = ": beyond double precision (rescale the effects, or drop the instrument)";

}  // namespace

std::optional<std::string> weights_out_of_range(const Instruments& in) {
  double sum_w = 0, sum_wxx = 0, sum_wyy = 0, sum_wxy = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in.byse[i] == 0) continue;  // zero_byse_reason says it for the methods that weight
    const double w = 1 / (in.byse[i] * in.byse[i]);
    if (!std::isfinite(w)) return "byse = " + number(in.byse[i]) + " gives the weight 1 / byse^2 = inf" + kAdvice;
    sum_w += w;
    sum_wxx += w * in.bx[i] * in.bx[i];
    sum_wyy += w * in.by[i] * in.by[i];
    sum_wxy += w * std::fabs(in.bx[i] * in.by[i]);
  }
  if (!std::isfinite(sum_w) || !std::isfinite(sum_wxx) || !std::isfinite(sum_wyy) || !std::isfinite(sum_wxy))
    return std::string("the weighted sums of the regression (sum w bx^2, sum w by^2 with w = 1 / byse^2) overflow") +
           kAdvice;
  if (in.size() > 0 && !normal_positive(sum_w))
    return std::string("the weights 1 / byse^2 sum to less than the smallest normal double") + kAdvice;
  return std::nullopt;
}

std::optional<std::string> ratios_out_of_range(const Instruments& in, bool weighted) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in.bx[i] == 0) continue;
    const double ratio = in.by[i] / in.bx[i], ratio_se = in.byse[i] / std::fabs(in.bx[i]);
    if (!std::isfinite(ratio) || !std::isfinite(ratio_se))
      return "the ratio estimate by / bx = " + number(in.by[i]) + " / " + number(in.bx[i]) + " or its SE overflows" +
             kAdvice;
    if (weighted && in.byse[i] > 0 && !std::isfinite((in.bx[i] / in.byse[i]) * (in.bx[i] / in.byse[i])))
      return "byse = " + number(in.byse[i]) + " gives the ratio weight (bx / byse)^2 = inf" + kAdvice;
  }
  return std::nullopt;
}

std::optional<std::string> meta_out_of_range(const std::vector<double>& y, const std::vector<double>& v) {
  double sum_w = 0, sum_wy = 0, sum_wyy = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double w = 1 / v[i];
    if (!std::isfinite(w))
      return "estimate " + std::to_string(i) + " has the variance " + number(v[i]) + ", whose weight 1 / v overflows" +
             kAdvice;
    sum_w += w;
    sum_wy += w * std::fabs(y[i]);
    sum_wyy += w * y[i] * y[i];
  }
  if (!std::isfinite(sum_w) || !std::isfinite(sum_wy) || !std::isfinite(sum_wyy))
    return std::string("the weighted sums of the estimates (sum w y^2 with w = 1 / v) overflow") + kAdvice;
  if (!y.empty() && !normal_positive(sum_w))
    return std::string("the weights 1 / v sum to less than the smallest normal double") + kAdvice;
  return std::nullopt;
}

}  // namespace deepmr::stats::detail
