#pragma once
// Reading a TorchScript model file into a LayerStack.
//
// Accepted (docs/models.md): a scripted or traced nn.Sequential (nested Sequentials allowed) of
// Conv1d, Conv2d with height-1 kernels, MaxPool1d/2d, AvgPool1d/2d with kernel = stride, ReLU,
// Threshold, ELU, BatchNorm1d/2d, Dropout, Flatten (or a view/reshape to N x -1), Linear and
// Sigmoid; or a module with such a Sequential as its only child and deepmr metadata attributes
// (deepmr_alphabet, deepmr_reverse_complement, deepmr_input_length, deepmr_targets), as written by
// scripts/export_model.py. Anything else is refused with a ModelError naming the submodule path
// and its type.

#include <optional>
#include <string>
#include <vector>

#include "deepmr/model/layer_stack.hpp"

namespace deepmr::model {

// Overrides of the metadata stored in the file (command-line or config options).
struct ModelOverrides {
  std::optional<std::string> alphabet;
  std::optional<bool> reverse_complement_average;
  std::optional<int> input_length;
  // A graph model's head reductions (head_reduction.hpp), replacing the file's deepmr_reduce.
  std::optional<std::vector<std::string>> head_reductions;
};

// The length of the data the model will read (a sequence, a region, the rows of a sequences file),
// for models that accept a range of input lengths and do not say which they were trained on: such
// a model takes this length when it accepts it. `what` names the data in messages.
struct DataLength {
  int length = 0;
  std::string what;
};

// One model file. A deep-ensemble file (below) is refused: use load_model_members.
LayerStack load_model_file(const std::string& path, const ModelOverrides& overrides = {},
                           const std::optional<DataLength>& data_length = std::nullopt);

// The models of a file: one, or the members of a deep-ensemble file in order. An ensemble file
// (scripts/export_model.py with several --state-dict) holds each member as a submodule of the top
// module, exported as a model of its own (metadata included), and lists their names in
// `deepmr_ensemble_members`; each member is read as load_model_file reads a file, its
// LayerStack::member naming it (messages: "FILE[member1]").
std::vector<LayerStack> load_model_members(const std::string& path, const ModelOverrides& overrides = {},
                                           const std::optional<DataLength>& data_length = std::nullopt);

}  // namespace deepmr::model
