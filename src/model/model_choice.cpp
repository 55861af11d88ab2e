#include "deepmr/model/model_choice.hpp"

#include "deepmr/common/error.hpp"
#include "deepmr/model/ensemble_network.hpp"
#include "deepmr/model/graph.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::model {

std::string strand_averaging_refusal(const LayerStack& stack, const std::vector<int>& outputs) {
  if (!stack.graph || !stack.options.reverse_complement_average) return "";
  const Graph& graph = *stack.graph;
  std::int64_t start = 0;
  for (const auto& named : graph.named_outputs()) {
    const GraphNode& node = graph.nodes.at(static_cast<std::size_t>(named.node));
    std::int64_t size = 1;
    for (auto d : node.dims) size *= d;
    if (node.dims.size() == 2)  // channels x length: one output per position
      for (int o : outputs)
        // (the middle position of an odd length, a length of 1 included, is its own mirror image)
        if (o >= start && o < start + size && 2 * ((o - start) % node.dims[1]) != node.dims[1] - 1)
          return stack.label() + ": output " +
                 (o < static_cast<int>(stack.target_names.size()) ? stack.target_names[o] : std::to_string(o)) +
                 " is one position of the profile '" + named.name +
                 "', whose reverse-complement value sits at the mirrored position, so strand averaging "
                 "(--reverse-complement on) would average two positions; reduce the head over a centred window "
                 "(--reduce, model.reduce) or turn strand averaging off";
    start += size;
  }
  return "";
}

void check_strand_averaging(const ModelChoice& choice, const std::vector<int>& outputs) {
  if (auto refusal = strand_averaging_refusal(*choice.stack, outputs); !refusal.empty()) throw ModelError(refusal);
  for (const auto& member : choice.more_members)
    if (auto refusal = strand_averaging_refusal(*member, outputs); !refusal.empty()) throw ModelError(refusal);
}

std::unique_ptr<Network> make_choice_network(const ModelChoice& choice, std::vector<int> outputs, const Device& device) {
  check_strand_averaging(choice, outputs);
  if (choice.more_members.empty()) return make_network(choice.stack, std::move(outputs), device, choice.backend);
  std::vector<std::unique_ptr<Network>> members;
  members.push_back(make_network(choice.stack, outputs, device, choice.backend));
  for (const auto& member : choice.more_members) members.push_back(make_network(member, outputs, device, choice.backend));
  return make_ensemble_network(std::move(members), model_labels(choice));
}

std::vector<std::string> model_files(const ModelChoice& choice) {
  std::vector<std::string> files{choice.stack->source};
  for (const auto& member : choice.more_members) files.push_back(member->source);
  return files;
}

std::vector<std::string> model_labels(const ModelChoice& choice) {
  std::vector<std::string> labels{choice.stack->label()};
  for (const auto& member : choice.more_members) labels.push_back(member->label());
  return labels;
}

bool member_dropout(const ModelChoice& choice, bool dropout) {
  if (!dropout) return false;
  // Dropout layers at p = 0 drop nothing: their samples would be copies, shrinking the spread.
  const auto drops = [](const LayerStack& stack) {
    for (double p : stack.dropout_rates())
      if (p > 0) return true;
    return false;
  };
  if (drops(*choice.stack)) return true;
  for (const auto& member : choice.more_members)
    if (drops(*member)) return true;
  return false;
}

int region_samples(const ModelChoice& choice, int mc_samples, bool dropout) {
  if (choice.more_members.empty()) return mc_samples;
  const int members = 1 + static_cast<int>(choice.more_members.size());
  return member_dropout(choice, dropout) ? members * mc_samples : members;
}

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
