// deepmr mr: Mendelian randomization estimates from a table of summary statistics, one row per
// method (docs/statistics.md). The same library fits every (exposure, region) unit of a run.

#include <algorithm>
#include <cmath>
#include <iostream>
#include <thread>

#include "deepmr/app/batch_option.hpp"
#include "deepmr/app/command.hpp"
#include "deepmr/app/result_rows.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/stats/mr.hpp"
#include "deepmr/stats/result_columns.hpp"
#include "deepmr/stats/summary_table.hpp"

namespace deepmr::app {
namespace {

// The fit columns summary statistics can fill (not the jackknife over Monte Carlo samples).
const std::vector<stats::MrColumn>& summary_statistics_columns() {
  static const std::vector<stats::MrColumn> columns = [] {
    std::vector<stats::MrColumn> out;
    for (const auto& c : stats::mr_columns())
      if (!stats::needs_samples(c)) out.push_back(c);
    return out;
  }();
  return columns;
}

// The method, every fit column, the status (after `leading` columns, e.g. the instrument left out).
Table result_table(const std::vector<std::string>& leading = {}) {
  std::vector<std::string> header = leading;
  header.push_back("method");
  for (const auto& name : column_names(summary_statistics_columns())) header.push_back(name);
  header.push_back("status");
  return Table(header);
}

void add_result(Table& table, const stats::MrResult& r) {
  table.add_row();
  table.set("method", stats::mr_method_name(r.method));
  set_columns(table, summary_statistics_columns(), r);
  table.set("status", r.status());
}

// An estimable fit with a reason carries a warning (e.g. the mode's density grid): one line each.
void warn(const std::vector<stats::MrResult>& results, const std::string& where = "") {
  for (const auto& r : results)
    if (r.estimable && !r.reason.empty())
      std::cerr << "deepmr mr: warning: " << where << stats::mr_method_name(r.method) << ": " << r.reason << std::endl;
}

// The instruments without row `left_out`.
stats::Instruments without(const stats::Instruments& in, std::size_t left_out) {
  stats::Instruments out;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (i != left_out) out.push_back_from(in, i);
  return out;
}

class MrCommand final : public Command {
 public:
  std::string name() const override { return "mr"; }
  std::string summary() const override {
    return "Mendelian randomization from summary statistics: IVW, MR-Egger, median, mode and robust estimates";
  }
  std::string usage() const override {
    return "--input FILE [--methods LIST] [--distribution normal|t] [--bootstrap N] [--seed S] [--min-abs-z-x Z] "
           "[--presso-distributions N] [--ivw-weights simple|delta] [--psi R] [--leave-one-out] [--threads T] "
           "[--format tsv|json]";
  }

  void describe(po::options_description& options, po::positional_options_description&) const override {
    std::string methods;
    for (auto m : stats::default_mr_methods()) methods += (methods.empty() ? "" : ",") + stats::mr_method_name(m);
    options.add_options()
        ("input", po::value<std::string>()->required()->value_name("FILE"),
         "TSV or CSV with a header naming bx, bxse, by, byse (any order; other columns ignored; # comments)")
        ("methods", po::value<std::string>()->default_value(methods)->value_name("LIST"),
         "comma-separated: ivw (fixed effect below 4 instruments, else random), ivw-fixed, ivw-random, egger, "
         "median-weighted, median-simple, mode-weighted, divw, ivw-penalized, egger-penalized, median-penalized, "
         "conmix, ivw-robust, egger-robust, ivw-penalized-robust, egger-penalized-robust, mr-presso")
        ("distribution", po::value<std::string>()->default_value("normal")->value_name("D"),
         "normal or t (J - 1 df; egger J - 2) for intervals and p-values")
        ("bootstrap", po::value<std::string>()->default_value("10000")->value_name("N"),
         "bootstrap draws for the SEs of the medians and the mode (0: estimates only)")
        ("seed", po::value<std::string>()->default_value("314159265")->value_name("S"),
         "bootstrap seed (64-bit): the same seed gives the same SEs on any machine")
        ("min-abs-z-x", po::value<double>()->default_value(0)->value_name("Z"),
         "use only instruments with |bx / bxse| >= Z (0: all)")
        ("presso-distributions", po::value<std::string>()->default_value("1000")->value_name("N"),
         "mr-presso: simulated data sets of its global and outlier tests (MRPRESSO's NbDistribution)")
        ("ivw-weights", po::value<std::string>()->default_value("simple")->value_name("W"),
         "ivw, ivw-fixed, ivw-random: simple (1 / byse^2) or delta (second-order, mr_ivw's weights = \"delta\")")
        ("psi", po::value<double>()->default_value(0)->value_name("R"),
         "delta weights: the correlation of every instrument's bx and by errors, in [-1, 1] (mr_ivw's psi); "
         "an input column psi gives one per instrument instead")
        ("leave-one-out", po::bool_switch(),
         "instead: one row per instrument (its 1-based data row) and method, the fit without that instrument")
        ("threads", po::value<std::string>()->default_value("1")->value_name("T"),
         "threads of the median and mode bootstraps, or auto: this machine's cores (the same results on any count)")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("FORMAT"), "tsv or json");
  }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& values = parsed.values;
    const TableFormat format = parse_table_format(values["format"].as<std::string>());
    stats::MrOptions options;
    const auto methods = stats::parse_mr_methods(values["methods"].as<std::string>());
    options.distribution = stats::parse_distribution(values["distribution"].as<std::string>());
    options.bootstrap_draws = unsigned_option(parsed, "bootstrap");
    if (options.bootstrap_draws == 1)
      throw UsageError("option 'bootstrap': 1 draw gives no standard error (use 0 for none, or at least 2)");
    options.seed = unsigned_option(parsed, "seed");
    const int threads = parse_count_or_auto(values["threads"].as<std::string>(), "threads");
    options.threads = threads > 0 ? static_cast<std::size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
    options.min_abs_z_x = values["min-abs-z-x"].as<double>();
    if (!(options.min_abs_z_x >= 0) || !std::isfinite(options.min_abs_z_x))
      throw UsageError("option 'min-abs-z-x': expected a number >= 0");
    options.presso_distributions = unsigned_option(parsed, "presso-distributions");
    if (options.presso_distributions < 1)
      throw UsageError("option 'presso-distributions': at least 1 simulated data set");

    options.ivw_weights = stats::parse_ivw_weights(values["ivw-weights"].as<std::string>(), "ivw-weights");
    if (options.ivw_weights == stats::IvwWeights::delta && !stats::weighs_ivw(methods))
      throw UsageError("option 'ivw-weights': delta weighs only ivw, ivw-fixed and ivw-random, and --methods has none of them");
    options.psi = values["psi"].as<double>();
    if (!(options.psi >= -1 && options.psi <= 1)) throw UsageError("option 'psi': expected a correlation in [-1, 1]");
    if (options.psi != 0 && options.ivw_weights != stats::IvwWeights::delta)
      throw UsageError("option 'psi' applies to --ivw-weights delta only");

    const auto table = stats::SummaryTable::read(values["input"].as<std::string>());
    const stats::Instruments instruments = stats::read_instruments(table);
    if (!instruments.psi.empty() && !values["psi"].defaulted())
      throw UsageError("option 'psi' and the input's psi column both give psi: drop one of them");
    if (values["leave-one-out"].as<bool>()) {
      // As MendelianRandomization's mr_loo, for every method asked: n x the cost of one fit.
      Table out = result_table({"instrument"});
      std::vector<std::vector<stats::MrResult>> fits;
      for (std::size_t i = 0; i < instruments.size(); ++i) {
        fits.push_back(stats::fit_all(methods, without(instruments, i), options));
        for (const auto& r : fits.back()) {
          add_result(out, r);
          out.set("instrument", static_cast<long long>(i + 1));
        }
      }
      out.write(std::cout, format);
      std::cout.flush();
      for (std::size_t i = 0; i < fits.size(); ++i) warn(fits[i], "without instrument " + std::to_string(i + 1) + ": ");
      return 0;
    }
    const auto results = stats::fit_all(methods, instruments, options);
    Table out = result_table();
    for (const auto& r : results) add_result(out, r);
    out.write(std::cout, format);
    std::cout.flush();
    warn(results);
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_mr_command() { return std::make_unique<MrCommand>(); }

}  // namespace deepmr::app
