#pragma once
// A reference evaluation of a Graph (graph.hpp) with LibTorch's CPU operators in float64: the
// check of the graph reader against PyTorch, and the seed of the torch backend for graphs. Dropout
// is the identity (inference). No LibTorch types here.

#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/model/graph.hpp"

namespace deepmr::model {

// One output tensor of the model (Graph::named_outputs order): batch x prod(dims) values, row-major.
struct OutputValues {
  std::string name;
  std::vector<std::int64_t> dims;  // per example
  std::vector<double> values;
};

// inputs: batch x channels x length values (row-major; channels and length as graph.nodes[0].dims).
// Checks every node's computed shape against the graph's (InternalError if they differ).
std::vector<OutputValues> evaluate_graph_float64(const Graph& graph, const std::vector<double>& inputs, int batch);

}  // namespace deepmr::model
