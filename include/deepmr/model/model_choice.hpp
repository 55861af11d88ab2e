#pragma once
// A loaded model and where it runs, as a command or a run chose it (app/model_options.hpp reads it
// from options): the layer stack, the output names, the device, the backend and the threads.

#include <memory>
#include <string>
#include <vector>

#include "deepmr/model/layer_stack.hpp"
#include "deepmr/model/network.hpp"

namespace deepmr::model {

struct ModelChoice {
  std::shared_ptr<const LayerStack> stack;  // the model, or a deep ensemble's first member
  // A deep ensemble's other members, in the order given (ensemble_network.hpp); none for one model.
  std::vector<std::shared_ptr<const LayerStack>> more_members;
  std::vector<std::string> target_names;  // from the targets file, else embedded in the model file
  Device device;
  Backend backend = Backend::kernels;
  int threads = 1;
};

// The one line refusing strand averaging for `outputs` of a graph model when one of them is a
// position of a profile (a channels x length output tensor) other than its middle: the reverse
// strand's value for it sits at the mirrored position. "" when there is nothing to refuse.
std::string strand_averaging_refusal(const LayerStack& stack, const std::vector<int>& outputs);
// ModelError with strand_averaging_refusal's line for the first member of `choice` that has one.
void check_strand_averaging(const ModelChoice& choice, const std::vector<int>& outputs);
// The network of `choice` for `outputs` on `device` with its backend: the model's, or its
// ensemble's (check_strand_averaging first).
std::unique_ptr<Network> make_choice_network(const ModelChoice& choice, std::vector<int> outputs, const Device& device);
// The model files of `choice` (one, or an ensemble's members in order: the same file for each
// member of an ensemble file).
std::vector<std::string> model_files(const ModelChoice& choice);
// Their names for messages and stores: the files, "FILE[member]" for members of an ensemble file.
std::vector<std::string> model_labels(const ModelChoice& choice);
// The Monte Carlo samples of a region: N = mc_samples for one model; for an ensemble of K members,
// K x N where MC dropout (`dropout`) runs inside members with dropout layers of p > 0, else K (one
// sample per member, each in inference mode).
int region_samples(const ModelChoice& choice, int mc_samples, bool dropout);
// Whether the samples of `choice` draw dropout masks inside the members (ism::IsmOptions::member_dropout).
bool member_dropout(const ModelChoice& choice, bool dropout);

// The backend named by `text` ("kernels" or "torch"; empty: the device's default). UsageError
// naming `option` for other text.
Backend parse_backend(const std::string& text, const Device& device, const std::string& option);
// The output names of a model: those of `targets_file` (checked against the model's output count:
// ModelError naming the file), else those embedded in the model file (possibly none).
std::vector<std::string> output_names(const LayerStack& stack, const std::string& targets_file);

// Resolves output names or indices through the targets (UsageError for an empty list, ModelError
// for an unknown name or an index out of range).
std::vector<int> resolve_output_list(const ModelChoice& choice, const std::vector<std::string>& requested);
// The name of an output for tables: its target name, else its index.
std::string output_label(const ModelChoice& choice, int output);

}  // namespace deepmr::model
