#pragma once
// Reading a TorchScript module's forward graph (scripted or traced) into deepmr's Graph (graph.hpp).
//
// The module is frozen and inlined (torch::jit::freeze_module: every submodule call inlined, every
// parameter a constant, after eval()), in-place ops are made functional, and the graph is walked
// once in order with the input's shape: shape arithmetic (aten::size, aten::dim, comparisons) and
// prim::If on such values are evaluated, so the graph read is the one PyTorch runs at this input
// length. Every op is mapped to an OpKind; anything else is refused with a ModelError (exit 4)
// naming the op, the submodule and the source line. The ops: docs/models.md ("Graphs").
//
// Metadata attributes (deepmr_alphabet, deepmr_reverse_complement, deepmr_input_length,
// deepmr_targets) are read from the module before freezing. A module written by
// scripts/export_model.py (the metadata plus one child `net`) is read as its child `net`: the
// reverse-complement averaging stays a model option, as for layer stacks.
//
// load_model_file reads a model this way when it is not an nn.Sequential of the layers the
// layer-stack reader takes (model_file.hpp); such a model runs on the torch backend (full and
// incremental engines) and on the kernels backend (full engine).

#include <optional>
#include <string>

#include "deepmr/model/graph.hpp"
#include "deepmr/model/model_file.hpp"  // ModelOverrides

namespace deepmr::model {

// overrides, data_length: as for load_model_file. The input length decides the graph read (a
// scripted model may branch on it): it comes from the overrides, else from deepmr_input_length,
// else from the data (data_length); without any the model is refused. The input layout (N x 4 x L, or N x 4 x 1 x L for conv2d models) is taken
// from the wrapper's `conv2d` attribute, else from the first op reading the input.
Graph read_torchscript_graph(const std::string& path, const ModelOverrides& overrides = {},
                             const std::optional<DataLength>& data_length = std::nullopt);

}  // namespace deepmr::model
