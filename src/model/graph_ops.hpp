#pragma once
// The ATen operation of one graph node (graph.hpp), shared by every evaluator of graphs: the
// float64 reference (graph_torch_evaluator.cpp), the torch backend's network
// (graph_torch_network.cpp) and its incremental form (incremental_graph_torch.cpp). Private to
// the model layer (LibTorch types).

#include <ATen/ATen.h>

#include <vector>

#include "deepmr/model/graph.hpp"

namespace deepmr::model::detail {

// A node's parameters as tensors of one floating type on one device (a float64 module's values
// rounded once to float32 for a float32 evaluation; undefined where the node has none).
struct NodeTensors {
  at::Tensor weight, bias, running_mean, running_var;
};
at::Tensor graph_tensor(const GraphTensor& t, at::ScalarType type, const at::Device& device);
NodeTensors node_tensors(const GraphNode& node, at::ScalarType type, const at::Device& device);

// The node applied to its inputs' values `in` (batch first, in the node's input order). A dropout
// node multiplies by `dropout_mask` when it is defined (MC dropout), else passes its input on.
at::Tensor apply_node(const GraphNode& node, const NodeTensors& tensors, const std::vector<at::Tensor>& in,
                      const at::Tensor& dropout_mask = at::Tensor());

}  // namespace deepmr::model::detail
