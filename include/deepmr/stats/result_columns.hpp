#pragma once
// The numeric columns of an MR fit and of a meta-analysis, written once: each with its name, its
// kind and how it is read off the result. The store's fits/<method> and meta/<method> tables, the
// journal rows, `deepmr mr`, `deepmr meta`, `deepmr summarize` and the Python reader
// (analysis/deepmr_store/schema.json, checked against these lists by a test) all derive from them.

#include <optional>
#include <vector>

#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::stats {

// real: a double; count: a whole number (tables print it as an integer; the store keeps float64).
enum class ColumnKind { real, count };

template <typename Result>
struct ResultColumn {
  const char* name;
  ColumnKind kind;
  std::optional<double> (*value)(const Result&);  // empty: does not apply, or not estimable
};

using MrColumn = ResultColumn<MrResult>;
using MetaColumn = ResultColumn<MetaResult>;

// estimate, se, ci_low, ci_high, pvalue, intercept, intercept_se, intercept_pvalue, q, q_df,
// q_pvalue, i2, i2_gx, f_mean, residual_se, n_used, then the columns of the jackknife over the Monte
// Carlo samples: se_jackknife, ci_low_jackknife, ci_high_jackknife, pvalue_jackknife.
const std::vector<MrColumn>& mr_columns();
// Whether a column needs the Monte Carlo samples (the jackknife's), which only a run has: `deepmr
// mr`, fitting summary statistics, leaves these out of its table.
bool needs_samples(const MrColumn& column);
// k, estimate, se, ci_low, ci_high, pvalue, tau2, tau, i2, h2, q, q_df, q_pvalue, pi_low, pi_high.
const std::vector<MetaColumn>& meta_columns();

// Every column's value, NaN where empty (the store's and the journal's row form).
std::vector<double> column_values(const MrResult& result);
std::vector<double> column_values(const MetaResult& result);

}  // namespace deepmr::stats
