// deepmr summarize: the per-pair (exposure, outcome) table of a store (finished or partial), one
// column of it as an exposure x outcome matrix, or every unit's fits.
// A partial store's table says so in its `run` column, and the exit status is 75 rather than 0.

#include <iostream>

#include "deepmr/app/command.hpp"
#include "deepmr/app/store_tables.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/store/store_reader.hpp"

namespace deepmr::app {
namespace {

class SummarizeCommand : public Command {
 public:
  std::string name() const override { return "summarize"; }
  std::string summary() const override {
    return "The meta-analysis table of a store (or, with --units, every unit's fits), and how complete it is";
  }
  std::string usage() const override {
    return "STORE [--units | --matrix [COLUMN]] [--method M] [--outcome NAME] [--format tsv|json]";
  }
  void describe(po::options_description& options, po::positional_options_description& positional) const override {
    options.add_options()
        ("store", po::value<std::string>()->value_name("STORE"), "the run's HDF5 store")
        ("units", po::bool_switch(), "print every unit's fits (all methods) instead of the per-pair table")
        ("matrix", po::value<std::string>()->implicit_value("estimate")->value_name("COLUMN"),
         "one meta-analysis column (default estimate) as a matrix: a row per exposure, a column per outcome")
        ("outcome", po::value<std::string>()->value_name("NAME"), "only the pairs of this outcome (the table)")
        ("method", po::value<std::string>()->value_name("M"), "MR method of the table (default: the run's first)")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("tsv|json"), "output format");
    positional.add("store", 1);
  }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& v = parsed.values;
    if (v["store"].empty()) throw UsageError("say which store: deepmr summarize STORE");
    const auto format = parse_table_format(v["format"].as<std::string>());
    const auto contents = store::read_store(v["store"].as<std::string>());
    const bool matrix = !v["matrix"].empty();
    if (v["units"].as<bool>() && matrix) throw UsageError("options 'units' and 'matrix' are two different tables: give one");
    if (!v["outcome"].empty() && (v["units"].as<bool>() || matrix))
      throw UsageError("option 'outcome' selects rows of the per-pair table, not of --units or --matrix");
    if (v["units"].as<bool>()) {
      units_table(contents).write(std::cout, format);
    } else {
      std::size_t method = 0;
      if (!v["method"].empty()) {
        const auto& wanted = v["method"].as<std::string>();
        method = contents.methods.size();
        for (std::size_t m = 0; m < contents.methods.size(); ++m)
          if (contents.methods[m] == wanted) method = m;
        if (method == contents.methods.size())
          throw UsageError("option 'method': the store has no fits of '" + wanted + "' (it has " +
                           contents.text_attributes.at("methods") + ")");
      }
      if (contents.methods.empty()) throw StoreError(v["store"].as<std::string>() + ": the store has no MR methods");
      if (matrix)
        matrix_table(contents, method, v["matrix"].as<std::string>()).write(std::cout, format);
      else
        summary_table(contents, method, outcome_index(contents, v["outcome"].empty() ? "" : v["outcome"].as<std::string>()))
            .write(std::cout, format);
    }
    std::cout.flush();
    std::cerr << "deepmr summarize: " << v["store"].as<std::string>() << ": " << completeness(contents) << std::endl;
    // A partial store's table is printed all the same, but a script must not take it for the final one.
    return is_complete(contents) ? 0 : static_cast<int>(ExitCode::resumable);
  }
};

}  // namespace

std::unique_ptr<Command> make_summarize_command() { return std::make_unique<SummarizeCommand>(); }

}  // namespace deepmr::app
