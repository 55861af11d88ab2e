#include "deepmr/stats/mr.hpp"

#include <algorithm>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/conmix.hpp"
#include "deepmr/stats/divw.hpp"
#include "deepmr/stats/egger.hpp"
#include "deepmr/stats/ivw.hpp"
#include "deepmr/stats/median.hpp"
#include "deepmr/stats/mode.hpp"
#include "deepmr/stats/penalized.hpp"
#include "deepmr/stats/presso.hpp"
#include "deepmr/stats/robust.hpp"
#include "double_range.hpp"
#include "mr_support.hpp"

namespace deepmr::stats {

std::vector<MrMethod> all_mr_methods() {
  return {MrMethod::ivw,          MrMethod::ivw_fixed,       MrMethod::ivw_random,   MrMethod::egger,
          MrMethod::median_weighted, MrMethod::median_simple, MrMethod::mode_weighted,
          MrMethod::divw,         MrMethod::ivw_penalized,   MrMethod::egger_penalized,
          MrMethod::median_penalized, MrMethod::conmix,       MrMethod::ivw_robust,
          MrMethod::egger_robust, MrMethod::ivw_penalized_robust, MrMethod::egger_penalized_robust,
          MrMethod::mr_presso};
}

std::vector<MrMethod> default_mr_methods() {
  return {MrMethod::ivw, MrMethod::egger, MrMethod::median_weighted, MrMethod::mode_weighted};
}

std::string mr_method_name(MrMethod method) {
  switch (method) {
    case MrMethod::ivw: return "ivw";
    case MrMethod::ivw_fixed: return "ivw-fixed";
    case MrMethod::ivw_random: return "ivw-random";
    case MrMethod::egger: return "egger";
    case MrMethod::median_weighted: return "median-weighted";
    case MrMethod::median_simple: return "median-simple";
    case MrMethod::mode_weighted: return "mode-weighted";
    case MrMethod::divw: return "divw";
    case MrMethod::ivw_penalized: return "ivw-penalized";
    case MrMethod::egger_penalized: return "egger-penalized";
    case MrMethod::median_penalized: return "median-penalized";
    case MrMethod::conmix: return "conmix";
    case MrMethod::ivw_robust: return "ivw-robust";
    case MrMethod::egger_robust: return "egger-robust";
    case MrMethod::ivw_penalized_robust: return "ivw-penalized-robust";
    case MrMethod::egger_penalized_robust: return "egger-penalized-robust";
    case MrMethod::mr_presso: return "mr-presso";
  }
  throw InternalError("stats: unknown MR method");
}

MrMethod parse_mr_method(const std::string& text, const std::string& option) {
  for (MrMethod method : all_mr_methods())
    if (mr_method_name(method) == text) return method;
  std::string names;
  for (MrMethod method : all_mr_methods()) names += (names.empty() ? "" : ", ") + mr_method_name(method);
  throw UsageError("option '" + option + "': unknown method '" + text + "' (use a comma-separated list of " + names +
                   ")");
}

std::vector<MrMethod> parse_mr_methods(const std::string& text, const std::string& option) {
  std::vector<MrMethod> methods;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    const MrMethod method = parse_mr_method(name, option);
    if (std::find(methods.begin(), methods.end(), method) != methods.end())
      throw UsageError("option '" + option + "': method '" + name + "' is listed twice");
    methods.push_back(method);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return methods;
}

std::uint64_t bootstrap_stream(MrMethod method) {
  // Distinct fixed ids, so a method's draws do not depend on which other methods run.
  return 0x6d72000000000000ull + static_cast<std::uint64_t>(method);
}

std::string MrResult::status() const { return estimable ? "ok" : "not estimable: " + reason; }

namespace {

MrResult fit_method(MrMethod method, const Instruments& instruments, const MrOptions& options) {
  switch (method) {
    case MrMethod::ivw: return fit_ivw(instruments, IvwModel::automatic, options);
    case MrMethod::ivw_fixed: return fit_ivw(instruments, IvwModel::fixed, options);
    case MrMethod::ivw_random: return fit_ivw(instruments, IvwModel::random, options);
    case MrMethod::egger: return fit_egger(instruments, options);
    case MrMethod::median_weighted: return fit_median(instruments, true, options);
    case MrMethod::median_simple: return fit_median(instruments, false, options);
    case MrMethod::mode_weighted: return fit_mode(instruments, options);
    case MrMethod::divw: return fit_divw(instruments, options);
    case MrMethod::ivw_penalized: return fit_ivw_penalized(instruments, options);
    case MrMethod::egger_penalized: return fit_egger_penalized(instruments, options);
    case MrMethod::median_penalized: return fit_median_penalized(instruments, options);
    case MrMethod::conmix: return fit_conmix(instruments, options);
    case MrMethod::ivw_robust: return fit_ivw_robust(instruments, false, options);
    case MrMethod::egger_robust: return fit_egger_robust(instruments, false, options);
    case MrMethod::ivw_penalized_robust: return fit_ivw_robust(instruments, true, options);
    case MrMethod::egger_penalized_robust: return fit_egger_robust(instruments, true, options);
    case MrMethod::mr_presso: return fit_presso(instruments, options);
  }
  throw InternalError("stats: unknown MR method");
}

// Whether the instruments are within double precision for each kind of method (double_range.hpp),
// checked once per unit, not once per method.
struct RangeReasons {
  explicit RangeReasons(const Instruments& in)
      : weights(detail::weights_out_of_range(in)),
        weighted_ratios(detail::ratios_out_of_range(in, true)),
        ratios(detail::ratios_out_of_range(in, false)) {}
  const std::optional<std::string>& of(MrMethod method) const {
    switch (method) {
      case MrMethod::median_simple: return ratios;
      case MrMethod::median_weighted:
      case MrMethod::median_penalized:
      case MrMethod::conmix:
      case MrMethod::mode_weighted: return weighted_ratios;
      default: return weights;
    }
  }
  std::optional<std::string> weights, weighted_ratios, ratios;
};

// A method's fit, or "not estimable" with the reason when the inputs are beyond double precision
// for it: never a result with a non-finite number (mr.hpp), never a crash.
MrResult fit_selected(MrMethod method, const Instruments& instruments, const RangeReasons& range,
                      const MrOptions& options) {
  if (const auto& reason = range.of(method)) return detail::not_estimable(method, instruments.size(), *reason);
  MrResult result = fit_method(method, instruments, options);
  if (result.estimable) {
    if (auto column = detail::non_finite_column(mr_columns(), result))
      return detail::not_estimable(method, result.n_used, "the fit's " + *column +
                                                              " is not finite in double precision (extreme effects or SEs)");
    if (auto field = detail::non_finite_extra(result))
      return detail::not_estimable(method, result.n_used, "the fit's " + *field +
                                                              " is not finite in double precision (extreme effects or SEs)");
  }
  return result;
}

}  // namespace

std::vector<MrResult> fit_all(const std::vector<MrMethod>& methods, const Instruments& instruments,
                              const MrOptions& options) {
  if (!(options.level > 0 && options.level < 1))
    throw InternalError("stats: MrOptions::level must lie in (0, 1)");
  std::vector<MrResult> results;
  results.reserve(methods.size());
  InstrumentCounts counts;
  counts.n_input = instruments.size();
  if (auto reason = invalid_instruments(instruments)) {
    for (MrMethod method : methods) {
      results.push_back(detail::not_estimable(method, 0, *reason));
      results.back().counts = counts;
    }
    return results;
  }
  const InstrumentSelection selection = select_instruments(instruments, options.min_abs_z_x);
  const RangeReasons range(selection.kept);
  for (MrMethod method : methods) {
    results.push_back(fit_selected(method, selection.kept, range, options));
    results.back().counts = selection.counts;
  }
  return results;
}

MrResult fit_mr(MrMethod method, const Instruments& instruments, const MrOptions& options) {
  return fit_all({method}, instruments, options).front();
}

}  // namespace deepmr::stats
