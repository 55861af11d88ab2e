// deepmr meta: random-effects meta-analysis of estimates and their standard errors (or variances),
// overall or per group (docs/statistics.md). The same library pools a run's region estimates.

#include <iostream>
#include <map>

#include "deepmr/app/command.hpp"
#include "deepmr/app/exit_status.hpp"
#include "deepmr/app/result_rows.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/meta_diagnostics.hpp"
#include "deepmr/stats/summary_table.hpp"

namespace deepmr::app {
namespace {

struct Group {
  std::string name;
  std::vector<double> estimates, variances;
};

// Groups in order of first appearance; one group (unnamed) without a group column.
std::vector<Group> read_groups(const stats::SummaryTable& table, const std::string& group_column) {
  const std::size_t estimate = table.require("estimate");
  const bool have_se = table.has("se");
  if (!have_se && !table.has("variance")) table.require("se");  // the message names the columns there are
  const std::size_t spread = table.require(have_se ? "se" : "variance");
  const std::size_t group = group_column.empty() ? 0 : table.require(group_column);

  std::vector<Group> groups;
  std::map<std::string, std::size_t> index;
  for (const auto& row : table.rows()) {
    const std::string name = group_column.empty() ? "" : row.fields[group];
    auto [it, fresh] = index.emplace(name, groups.size());
    if (fresh) groups.push_back({name, {}, {}});
    const double y = table.number(row, estimate), s = table.number(row, spread);
    if (!(s > 0))
      throw InputError(at(table.path(), row.line) + "column '" + table.columns()[spread] + "' must be positive (got " +
                       row.fields[spread] + ")");
    groups[it->second].estimates.push_back(y);
    groups[it->second].variances.push_back(have_se ? s * s : s);
  }
  if (groups.empty()) throw InputError(table.path() + ": no estimates (the file has a header but no rows)");
  return groups;
}

// --diagnostics: the Q-profile interval (tau^2, tau, I^2, H^2) and Egger's test, after the group's columns.
const std::vector<std::string> kDiagnosticColumns = {
    "tau2_ci_low", "tau2_ci_high", "tau_ci_low", "tau_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high",
    "egger_statistic", "egger_df", "egger_pvalue", "egger_limit", "egger_limit_ci_low", "egger_limit_ci_high"};
// --influence: metafor's influence() columns per study, influential as 0/1.
const std::vector<std::string> kInfluenceColumns = {"rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del",
                                                    "hat", "weight", "dfbetas", "influential"};

void warn(const std::string& group_column, const Group& group, const std::string& what) {
  std::cerr << "deepmr meta: warning: " << one_line(group_column.empty() ? "" : "group '" + group.name + "': ")
            << one_line(what) << std::endl;
}

void set_diagnostics(Table& out, const std::string& group_column, const Group& group,
                     const stats::MetaOptions& options) {
  const stats::Tau2Interval ci = stats::tau2_q_profile(group.estimates, group.variances, options);
  if (!ci.estimable) warn(group_column, group, "tau^2 interval: " + ci.reason);
  else if (!ci.note.empty()) warn(group_column, group, "tau^2 interval: " + ci.note);
  out.set("tau2_ci_low", ci.tau2_low);
  out.set("tau2_ci_high", ci.tau2_high);
  out.set("tau_ci_low", ci.tau_low);
  out.set("tau_ci_high", ci.tau_high);
  out.set("i2_ci_low", ci.i2_low);
  out.set("i2_ci_high", ci.i2_high);
  out.set("h2_ci_low", ci.h2_low);
  out.set("h2_ci_high", ci.h2_high);
  const stats::EggerTest egger = stats::egger_regression_test(group.estimates, group.variances, options);
  if (!egger.estimable) warn(group_column, group, "Egger's test: " + egger.reason);
  out.set("egger_statistic", egger.statistic);
  if (egger.df) out.set("egger_df", static_cast<long long>(*egger.df));
  out.set("egger_pvalue", egger.pvalue);
  out.set("egger_limit", egger.limit);
  out.set("egger_limit_ci_low", egger.limit_ci_low);
  out.set("egger_limit_ci_high", egger.limit_ci_high);
}

class MetaCommand final : public Command {
 public:
  std::string name() const override { return "meta"; }
  std::string summary() const override {
    return "Random-effects meta-analysis (DerSimonian-Laird, REML, Paule-Mandel, ...), overall or per group";
  }
  std::string usage() const override {
    return "--input FILE [--tau2 DL|REML|ML|PM|HE|SJ|EB|FE] [--knha] [--group COLUMN]\n"
           "       [--diagnostics | --leave-one-out | --influence] [--format tsv|json]";
  }

  void describe(po::options_description& options, po::positional_options_description&) const override {
    options.add_options()
        ("input", po::value<std::string>()->required()->value_name("FILE"),
         "TSV or CSV with columns estimate and se (or variance); other columns ignored; # comments")
        ("tau2", po::value<std::string>()->default_value("DL")->value_name("METHOD"),
         "tau^2 estimator: DL, REML, ML, PM, HE, SJ, EB or FE (fixed effect)")
        ("knha", po::bool_switch(), "Knapp-Hartung adjustment (t with k - 1 df)")
        ("group", po::value<std::string>()->value_name("COLUMN"), "one meta-analysis per value of this column")
        ("diagnostics", po::bool_switch(),
         "add the Q-profile interval for tau^2 (tau, I^2, H^2) and Egger's regression test to each group's row")
        ("leave-one-out", po::bool_switch(), "instead: one row per study, the fit without it (metafor's leave1out)")
        ("influence", po::bool_switch(),
         "instead: one row per study, its influence diagnostics (metafor's influence: rstudent, dffits, cook_d, ...)")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("FORMAT"), "tsv or json");
  }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& values = parsed.values;
    const TableFormat format = parse_table_format(values["format"].as<std::string>());
    stats::MetaOptions options;
    options.tau2_method = stats::parse_tau2_method(values["tau2"].as<std::string>());
    options.knha = values["knha"].as<bool>();
    const std::string group_column = values.count("group") ? values["group"].as<std::string>() : "";

    const bool diagnostics = values["diagnostics"].as<bool>(), leave_one_out = values["leave-one-out"].as<bool>(),
               influence = values["influence"].as<bool>();
    if (int(diagnostics) + int(leave_one_out) + int(influence) > 1)
      throw UsageError("options '--diagnostics', '--leave-one-out' and '--influence' print different tables: use one");

    const auto table = stats::SummaryTable::read(values["input"].as<std::string>());
    if (leave_one_out || influence) return run_per_study(table, group_column, options, influence, format);
    std::vector<std::string> header = {"group"};
    for (const auto& name : column_names(stats::meta_columns())) header.push_back(name);
    if (diagnostics) header.insert(header.end(), kDiagnosticColumns.begin(), kDiagnosticColumns.end());
    Table out(header);
    for (const Group& group : read_groups(table, group_column)) {
      const stats::MetaResult r = stats::meta_analysis_variances(group.estimates, group.variances, options);
      if (!r.estimable) warn(group_column, group, r.status());
      out.add_row();
      if (!group_column.empty()) out.set("group", group.name);
      set_columns(out, stats::meta_columns(), r);
      if (diagnostics) set_diagnostics(out, group_column, group, options);
    }
    out.write(std::cout, format);
    return 0;
  }

 private:
  // One row per study (its 1-based position in its group): the fit without it, or its influence.
  static int run_per_study(const stats::SummaryTable& table, const std::string& group_column,
                           const stats::MetaOptions& options, bool influence, TableFormat format) {
    std::vector<std::string> header = {"group", "study"};
    const std::vector<std::string> columns =
        influence ? kInfluenceColumns : column_names(stats::meta_columns());
    header.insert(header.end(), columns.begin(), columns.end());
    Table out(header);
    for (const Group& group : read_groups(table, group_column)) {
      if (influence) {
        const stats::Influence inf = stats::influence(group.estimates, group.variances, options);
        if (!inf.estimable) warn(group_column, group, "influence: " + inf.reason);
        for (std::size_t i = 0; i < group.estimates.size(); ++i) {
          out.add_row();
          if (!group_column.empty()) out.set("group", group.name);
          out.set("study", i + 1);
          if (!inf.estimable) continue;
          const stats::StudyInfluence& s = inf.studies[i];
          if (!s.reason.empty()) {
            warn(group_column, group, "influence: " + s.reason);
            continue;
          }
          out.set("rstudent", s.rstudent);
          out.set("dffits", s.dffits);
          out.set("cook_d", s.cook_d);
          out.set("cov_r", s.cov_r);
          out.set("tau2_del", s.tau2_del);
          out.set("qe_del", s.qe_del);
          out.set("hat", s.hat);
          out.set("weight", s.weight);
          out.set("dfbetas", s.dfbetas);
          out.set("influential", s.influential ? 1 : 0);
        }
      } else {
        const auto fits = stats::leave_one_out(group.estimates, group.variances, options);
        for (std::size_t i = 0; i < fits.size(); ++i) {
          if (!fits[i].estimable) warn(group_column, group, "without study " + std::to_string(i + 1) + ": " + fits[i].status());
          out.add_row();
          if (!group_column.empty()) out.set("group", group.name);
          out.set("study", i + 1);
          set_columns(out, stats::meta_columns(), fits[i]);
        }
      }
    }
    out.write(std::cout, format);
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_meta_command() { return std::make_unique<MetaCommand>(); }

}  // namespace deepmr::app
