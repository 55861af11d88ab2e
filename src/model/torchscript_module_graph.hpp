#pragma once
// Internal to the model layer: the graph reader (torchscript_graph_reader.hpp) on a module already
// loaded, such as one member of a deep-ensemble file (model_file.cpp). LibTorch types.

#include <torch/script.h>

#include <optional>
#include <string>

#include "deepmr/model/graph.hpp"
#include "deepmr/model/model_file.hpp"

namespace deepmr::model {

// As read_torchscript_graph, for `module`; `path` names it in the graph and in messages.
Graph read_torchscript_module_graph(const torch::jit::Module& module, const std::string& path,
                                    const ModelOverrides& overrides = {},
                                    const std::optional<DataLength>& data_length = std::nullopt);

}  // namespace deepmr::model
