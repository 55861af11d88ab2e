#pragma once
// Options that choose and configure a model, shared by `deepmr ism`, `deepmr bench` and the run
// config ([model] section): file, targets, device, threads, and overrides of the file's metadata.

#include <memory>
#include <string>
#include <vector>

#include "deepmr/app/options.hpp"
#include "deepmr/model/layer_stack.hpp"
#include "deepmr/model/network.hpp"

namespace deepmr::app {

struct ModelChoice {
  std::shared_ptr<const model::LayerStack> stack;
  std::vector<std::string> target_names;  // from --targets, else embedded in the model file
  model::Device device;
  model::Backend backend = model::Backend::kernels;
};

// Adds model, targets, device, backend, threads, alphabet, reverse-complement, input-length under
// `prefix` (e.g. "" for `deepmr ism --model`, "model." for config sections).
void describe_model_options(po::options_description& options, const std::string& prefix);

// Loads the model and sets the compute threads. Errors are ModelError / UsageError.
ModelChoice load_model_choice(const po::variables_map& values, const std::string& prefix);

// Resolves output names or indices through the targets; names each resolved output for tables.
std::vector<int> resolve_output_list(const ModelChoice& choice, const std::vector<std::string>& requested);
std::string output_label(const ModelChoice& choice, int output);

}  // namespace deepmr::app
