#include "deepmr/model/model_choice.hpp"

#include "deepmr/common/error.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::model {

Backend parse_backend(const std::string& text, const Device& device, const std::string& option) {
  if (text.empty()) return default_backend(device);
  if (text == "kernels") return Backend::kernels;
  if (text == "torch") return Backend::torch;
  throw UsageError("option '" + option + "': use kernels or torch, not '" + text + "'");
}

std::vector<std::string> output_names(const LayerStack& stack, const std::string& targets_file) {
  auto names = targets_file.empty() ? stack.target_names : read_targets_file(targets_file);
  if (!names.empty() && static_cast<int>(names.size()) != stack.output_count())
    throw ModelError((targets_file.empty() ? stack.source : targets_file) + ": names " + std::to_string(names.size()) +
                     " outputs but the model has " + std::to_string(stack.output_count()));
  return names;
}

std::vector<int> resolve_output_list(const ModelChoice& choice, const std::vector<std::string>& requested) {
  if (requested.empty()) throw UsageError("no outputs given (e.g. --outputs 'HepG2|DNase|None,295')");
  return resolve_outputs(requested, choice.target_names, choice.stack->output_count());
}

std::string output_label(const ModelChoice& choice, int output) {
  return choice.target_names.empty() ? std::to_string(output) : choice.target_names[output];
}

}  // namespace deepmr::model
