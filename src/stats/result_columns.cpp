#include "deepmr/stats/result_columns.hpp"

#include <limits>
#include <string>

namespace deepmr::stats {
namespace {

template <typename T>
std::optional<double> as_double(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

template <typename Result>
std::vector<double> values_of(const std::vector<ResultColumn<Result>>& columns, const Result& result) {
  std::vector<double> out;
  out.reserve(columns.size());
  for (const auto& column : columns) out.push_back(column.value(result).value_or(std::numeric_limits<double>::quiet_NaN()));
  return out;
}

}  // namespace

#define DEEPMR_COLUMN(Result, field, kind) \
  { #field, ColumnKind::kind, [](const Result& r) { return as_double(r.field); } }

const std::vector<MrColumn>& mr_columns() {
  static const std::vector<MrColumn> columns = {
      DEEPMR_COLUMN(MrResult, estimate, real),
      DEEPMR_COLUMN(MrResult, se, real),
      DEEPMR_COLUMN(MrResult, ci_low, real),
      DEEPMR_COLUMN(MrResult, ci_high, real),
      DEEPMR_COLUMN(MrResult, pvalue, real),
      DEEPMR_COLUMN(MrResult, intercept, real),
      DEEPMR_COLUMN(MrResult, intercept_se, real),
      DEEPMR_COLUMN(MrResult, intercept_pvalue, real),
      DEEPMR_COLUMN(MrResult, q, real),
      DEEPMR_COLUMN(MrResult, q_df, count),
      DEEPMR_COLUMN(MrResult, q_pvalue, real),
      DEEPMR_COLUMN(MrResult, i2, real),
      DEEPMR_COLUMN(MrResult, i2_gx, real),
      DEEPMR_COLUMN(MrResult, f_mean, real),
      DEEPMR_COLUMN(MrResult, residual_se, real),
      {"n_used", ColumnKind::count, [](const MrResult& r) { return std::optional<double>(static_cast<double>(r.n_used)); }},
      DEEPMR_COLUMN(MrResult, se_jackknife, real),
      DEEPMR_COLUMN(MrResult, ci_low_jackknife, real),
      DEEPMR_COLUMN(MrResult, ci_high_jackknife, real),
      DEEPMR_COLUMN(MrResult, pvalue_jackknife, real),
  };
  return columns;
}

const std::vector<MetaColumn>& meta_columns() {
  static const std::vector<MetaColumn> columns = {
      {"k", ColumnKind::count, [](const MetaResult& r) { return std::optional<double>(static_cast<double>(r.k)); }},
      DEEPMR_COLUMN(MetaResult, estimate, real),
      DEEPMR_COLUMN(MetaResult, se, real),
      DEEPMR_COLUMN(MetaResult, ci_low, real),
      DEEPMR_COLUMN(MetaResult, ci_high, real),
      DEEPMR_COLUMN(MetaResult, pvalue, real),
      DEEPMR_COLUMN(MetaResult, tau2, real),
      DEEPMR_COLUMN(MetaResult, tau, real),
      DEEPMR_COLUMN(MetaResult, i2, real),
      DEEPMR_COLUMN(MetaResult, h2, real),
      DEEPMR_COLUMN(MetaResult, q, real),
      DEEPMR_COLUMN(MetaResult, q_df, count),
      DEEPMR_COLUMN(MetaResult, q_pvalue, real),
      DEEPMR_COLUMN(MetaResult, pi_low, real),
      DEEPMR_COLUMN(MetaResult, pi_high, real),
  };
  return columns;
}

#undef DEEPMR_COLUMN

bool needs_samples(const MrColumn& column) {
  const std::string name = column.name, suffix = "_jackknife";
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<double> column_values(const MrResult& result) { return values_of(mr_columns(), result); }
std::vector<double> column_values(const MetaResult& result) { return values_of(meta_columns(), result); }

}  // namespace deepmr::stats
