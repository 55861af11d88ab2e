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

class MetaCommand final : public Command {
 public:
  std::string name() const override { return "meta"; }
  std::string summary() const override {
    return "Random-effects meta-analysis (DerSimonian-Laird, REML, Paule-Mandel, ...), overall or per group";
  }
  std::string usage() const override {
    return "--input FILE [--tau2 DL|REML|ML|PM|HE|SJ|EB|FE] [--knha] [--group COLUMN] [--format tsv|json]";
  }

  void describe(po::options_description& options, po::positional_options_description&) const override {
    options.add_options()
        ("input", po::value<std::string>()->required()->value_name("FILE"),
         "TSV or CSV with columns estimate and se (or variance); other columns ignored; # comments")
        ("tau2", po::value<std::string>()->default_value("DL")->value_name("METHOD"),
         "tau^2 estimator: DL, REML, ML, PM, HE, SJ, EB or FE (fixed effect)")
        ("knha", po::bool_switch(), "Knapp-Hartung adjustment (t with k - 1 df)")
        ("group", po::value<std::string>()->value_name("COLUMN"), "one meta-analysis per value of this column")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("FORMAT"), "tsv or json");
  }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& values = parsed.values;
    const TableFormat format = parse_table_format(values["format"].as<std::string>());
    stats::MetaOptions options;
    options.tau2_method = stats::parse_tau2_method(values["tau2"].as<std::string>());
    options.knha = values["knha"].as<bool>();
    const std::string group_column = values.count("group") ? values["group"].as<std::string>() : "";

    const auto table = stats::SummaryTable::read(values["input"].as<std::string>());
    std::vector<std::string> header = {"group"};
    for (const auto& name : column_names(stats::meta_columns())) header.push_back(name);
    Table out(header);
    for (const Group& group : read_groups(table, group_column)) {
      const stats::MetaResult r = stats::meta_analysis_variances(group.estimates, group.variances, options);
      if (!r.estimable)
        std::cerr << "deepmr meta: warning: " << one_line(group_column.empty() ? "" : "group '" + group.name + "': ")
                  << one_line(r.status()) << std::endl;
      out.add_row();
      if (!group_column.empty()) out.set("group", group.name);
      set_columns(out, stats::meta_columns(), r);
    }
    out.write(std::cout, format);
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_meta_command() { return std::make_unique<MetaCommand>(); }

}  // namespace deepmr::app
