#pragma once
// Options that choose and configure a model and where it runs. The command-line form (`deepmr ism
// --model FILE --device cpu`) and the config form ([model] file = ..., [run] device = ...) share
// one implementation through ModelKeys.

#include <memory>
#include <string>
#include <vector>

#include "deepmr/app/options.hpp"
#include "deepmr/model/model_choice.hpp"
#include "deepmr/model/model_file.hpp"

namespace deepmr::app {

// The option names of the model and compute settings.
struct ModelKeys {
  std::string file, targets, alphabet, reverse_complement, input_length, reduce;  // the model
  std::string device, backend, threads;                                   // where it runs
  static ModelKeys command_line();  // --model, --targets, ..., --device, --backend, --threads
  static ModelKeys run_config();    // model.file, model.targets, ..., run.device, run.backend, run.threads
};

using model::ModelChoice;
using model::output_label;
using model::resolve_output_list;

void describe_model_options(po::options_description& options, const ModelKeys& keys);
// The command-line form (prefix must be empty): kept for the commands that take one model.
void describe_model_options(po::options_description& options, const std::string& prefix);

// Loads the model, parses device and backend and sets the compute threads. Errors are ModelError
// or UsageError naming the option.
// `data_length`: the length of the windows the command will read, taken by a model that accepts
// several lengths and names none (model_file.hpp).
ModelChoice load_model_choice(const po::variables_map& values, const ModelKeys& keys,
                              const std::optional<model::DataLength>& data_length = std::nullopt);
ModelChoice load_model_choice(const po::variables_map& values, const std::string& prefix,
                              const std::optional<model::DataLength>& data_length = std::nullopt);

}  // namespace deepmr::app
