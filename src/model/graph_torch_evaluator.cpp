#include "deepmr/model/graph_torch_evaluator.hpp"

#include <ATen/ATen.h>

#include "deepmr/common/error.hpp"

namespace deepmr::model {
namespace {

at::Tensor to_tensor(const GraphTensor& t) {
  auto values = t.to_double();
  return at::from_blob(values.data(), t.shape, at::kDouble).clone();
}

at::Tensor optional_tensor(const GraphTensor& t) { return t.empty() ? at::Tensor() : to_tensor(t); }

at::Tensor evaluate_node(const GraphNode& n, const std::vector<at::Tensor>& in) {
  const at::Tensor& x = in.at(0);
  const std::int64_t axis = n.axis + 1;  // the batch comes first
  switch (n.kind) {
    case OpKind::input: throw InternalError("evaluate_graph_float64: an input node inside the graph");
    case OpKind::conv: {
      auto padded = n.pad_left || n.pad_right ? at::constant_pad_nd(x, {n.pad_left, n.pad_right}, 0.0) : x;
      const std::vector<std::int64_t> stride{n.stride}, padding{0}, dilation{n.dilation};
      return at::conv1d(padded, to_tensor(n.weight), optional_tensor(n.bias), stride, padding, dilation, n.groups);
    }
    case OpKind::conv_transpose: {
      const std::vector<std::int64_t> stride{n.stride}, padding{n.pad_left}, output_padding{n.output_padding},
          dilation{n.dilation};
      return at::conv_transpose1d(x, to_tensor(n.weight), optional_tensor(n.bias), stride, padding, output_padding,
                                  n.groups, dilation);
    }
    case OpKind::max_pool:
      return at::max_pool1d(x, std::vector<std::int64_t>{n.kernel}, std::vector<std::int64_t>{n.stride},
                            std::vector<std::int64_t>{n.pad_left}, std::vector<std::int64_t>{n.dilation}, false);
    case OpKind::avg_pool:
      return at::avg_pool1d(x, std::vector<std::int64_t>{n.kernel}, std::vector<std::int64_t>{n.stride},
                            std::vector<std::int64_t>{n.pad_left}, false, n.count_include_pad);
    case OpKind::mean: return at::mean(x, std::vector<std::int64_t>{axis}, n.keepdim);
    case OpKind::max: return at::amax(x, std::vector<std::int64_t>{axis}, n.keepdim);
    case OpKind::logsumexp: return at::logsumexp(x, std::vector<std::int64_t>{axis}, n.keepdim);
    case OpKind::relu: return at::relu(x);
    case OpKind::elu: return at::elu(x, n.alpha, n.scale, n.input_scale);
    case OpKind::gelu: return at::gelu(x, n.approximate_tanh ? "tanh" : "none");
    case OpKind::softplus: return at::softplus(x, n.beta, n.threshold);
    case OpKind::sigmoid: return at::sigmoid(x);
    case OpKind::tanh: return at::tanh(x);
    case OpKind::exp: return at::exp(x);
    case OpKind::threshold: return at::threshold(x, n.threshold, n.value);
    case OpKind::batch_norm:
      return at::batch_norm(x, optional_tensor(n.weight), optional_tensor(n.bias), to_tensor(n.running_mean),
                            to_tensor(n.running_var), false, 0.0, n.eps, false);
    case OpKind::add_constant: return at::add(x, n.constant, n.alpha);
    case OpKind::sub_constant: return at::sub(x, n.constant, n.alpha);
    case OpKind::mul_constant: return at::mul(x, n.constant);
    case OpKind::div_constant: return at::div(x, n.constant);
    case OpKind::add: return at::add(x, in.at(1), n.alpha);
    case OpKind::sub: return at::sub(x, in.at(1), n.alpha);
    case OpKind::concat: return at::cat(in, axis);
    case OpKind::crop: return x.slice(2, n.start, n.end);
    case OpKind::flatten: return x.reshape({x.size(0), -1});
    case OpKind::linear: return at::linear(x, to_tensor(n.weight), optional_tensor(n.bias));
    case OpKind::softmax: return at::softmax(x, axis);
    case OpKind::log_softmax: return at::log_softmax(x, axis);
    case OpKind::dropout: return x;
  }
  throw InternalError("evaluate_graph_float64: unknown op " + std::to_string(static_cast<int>(n.kind)));
}

}  // namespace

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
    values[i] = evaluate_node(n, in);
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
