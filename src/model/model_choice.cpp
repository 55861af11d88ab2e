#include "deepmr/model/model_choice.hpp"

#include "deepmr/common/error.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::model {

std::vector<int> resolve_output_list(const ModelChoice& choice, const std::vector<std::string>& requested) {
  if (requested.empty()) throw UsageError("no outputs given (e.g. --outputs 'HepG2|DNase|None,295')");
  return resolve_outputs(requested, choice.target_names, choice.stack->output_count());
}

std::string output_label(const ModelChoice& choice, int output) {
  return choice.target_names.empty() ? std::to_string(output) : choice.target_names[output];
}

}  // namespace deepmr::model
