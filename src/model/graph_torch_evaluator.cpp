#include "deepmr/model/graph_torch_evaluator.hpp"

#include <ATen/ATen.h>

#include "deepmr/common/error.hpp"
#include "graph_ops.hpp"

namespace deepmr::model {

std::vector<OutputValues> evaluate_graph_float64(const Graph& graph, const std::vector<double>& inputs, int batch) {
  if (graph.nodes.empty() || graph.nodes[0].kind != OpKind::input)
    throw InternalError("evaluate_graph_float64: the graph has no input node");
  std::vector<std::int64_t> input_shape{batch};
  for (auto d : graph.nodes[0].dims) input_shape.push_back(d);
  std::int64_t expected = 1;
  for (auto d : input_shape) expected *= d;
  if (static_cast<std::int64_t>(inputs.size()) != expected)
    throw InternalError("evaluate_graph_float64: " + std::to_string(inputs.size()) + " input values for " +
                        std::to_string(expected));
  std::vector<at::Tensor> values(graph.nodes.size());
  values[0] = at::from_blob(const_cast<double*>(inputs.data()), input_shape, at::kDouble).clone();
  for (std::size_t i = 1; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    std::vector<at::Tensor> in;
    for (int id : n.inputs) in.push_back(values.at(static_cast<std::size_t>(id)));
    values[i] = detail::apply_node(n, detail::node_tensors(n, at::kDouble, at::kCPU), in);
    std::vector<std::int64_t> want{batch};
    want.insert(want.end(), n.dims.begin(), n.dims.end());
    if (values[i].sizes().vec() != want)
      throw InternalError("evaluate_graph_float64: node " + std::to_string(i) + " (" + op_name(n.kind) + ", " +
                          n.module_path + ") computed another shape than the graph says");
  }
  std::vector<OutputValues> out;
  for (const auto& named : graph.named_outputs()) {
    const auto t = values.at(static_cast<std::size_t>(named.node)).contiguous();
    const double* data = t.data_ptr<double>();
    out.push_back({named.name, graph.nodes.at(static_cast<std::size_t>(named.node)).dims,
                   std::vector<double>(data, data + t.numel())});
  }
  return out;
}

}  // namespace deepmr::model
