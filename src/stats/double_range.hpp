#pragma once
// Extreme but finite inputs (an SE of 1e-160, an effect of 1e300) make the weights and sums of the
// estimators overflow or underflow double precision; the fits would then compute NaN or crash.
// These checks say so up front, and the last one makes sure no estimable result carries a
// non-finite number (private to the stats layer; docs/statistics.md).

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "deepmr/stats/instruments.hpp"
#include "deepmr/stats/result_columns.hpp"

namespace deepmr::stats::detail {

// Weights 1 / byse^2 and the weighted sums of the IVW and Egger regressions (sum w, sum w bx^2,
// sum w by^2, sum w |bx by|) all finite and sum w a normal number; the reason otherwise.
std::optional<std::string> weights_out_of_range(const Instruments& instruments);
// Ratio estimates by / bx and their SEs byse / |bx| finite for every instrument with bx != 0, and
// (weighted) their first-order weights (bx / byse)^2; the reason otherwise.
std::optional<std::string> ratios_out_of_range(const Instruments& instruments, bool weighted);
// Meta-analysis: weights 1 / v and sum w, sum w y, sum w y^2 finite, sum w normal.
std::optional<std::string> meta_out_of_range(const std::vector<double>& y, const std::vector<double>& v);

// The first column of an estimable result that is set but not finite, if any.
template <typename Result>
std::optional<std::string> non_finite_column(const std::vector<ResultColumn<Result>>& columns, const Result& r) {
  for (const auto& c : columns)
    if (auto value = c.value(r); value && !std::isfinite(*value)) return std::string(c.name);
  return std::nullopt;
}

}  // namespace deepmr::stats::detail
