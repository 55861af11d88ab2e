#include "graph_ops.hpp"

#include "deepmr/common/error.hpp"

namespace deepmr::model::detail {

at::Tensor graph_tensor(const GraphTensor& t, at::ScalarType type, const at::Device& device) {
  if (t.empty()) return at::Tensor();
  const at::Tensor host =
      t.float64 ? at::from_blob(const_cast<double*>(t.f64.data()), t.shape, at::kDouble).to(type, false, true)
                : at::from_blob(const_cast<float*>(t.f32.data()), t.shape, at::kFloat).to(type, false, true);
  // (copy = true above and below: the graph keeps its own values)
  return host.to(device);
}

NodeTensors node_tensors(const GraphNode& node, at::ScalarType type, const at::Device& device) {
  return {graph_tensor(node.weight, type, device), graph_tensor(node.bias, type, device),
          graph_tensor(node.running_mean, type, device), graph_tensor(node.running_var, type, device)};
}

at::Tensor apply_node(const GraphNode& n, const NodeTensors& p, const std::vector<at::Tensor>& in,
                      const at::Tensor& dropout_mask) {
  const at::Tensor& x = in.at(0);
  const std::int64_t axis = n.axis + 1;  // the batch comes first
  switch (n.kind) {
    case OpKind::input: throw InternalError("graph: an input node inside the graph");
    case OpKind::conv: {
      const std::vector<std::int64_t> stride{n.stride}, dilation{n.dilation};
      if (n.pad_left == n.pad_right)
        return at::conv1d(x, p.weight, p.bias, stride, std::vector<std::int64_t>{n.pad_left}, dilation, n.groups);
      return at::conv1d(at::constant_pad_nd(x, {n.pad_left, n.pad_right}, 0.0), p.weight, p.bias, stride,
                        std::vector<std::int64_t>{0}, dilation, n.groups);
    }
    case OpKind::conv_transpose:
      return at::conv_transpose1d(x, p.weight, p.bias, std::vector<std::int64_t>{n.stride},
                                  std::vector<std::int64_t>{n.pad_left}, std::vector<std::int64_t>{n.output_padding},
                                  n.groups, std::vector<std::int64_t>{n.dilation});
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
      return at::batch_norm(x, p.weight, p.bias, p.running_mean, p.running_var, false, 0.0, n.eps, false);
    case OpKind::add_constant: return at::add(x, n.constant, n.alpha);
    case OpKind::sub_constant: return at::sub(x, n.constant, n.alpha);
    case OpKind::mul_constant: return at::mul(x, n.constant);
    case OpKind::div_constant: return at::div(x, n.constant);
    case OpKind::add: return at::add(x, in.at(1), n.alpha);
    case OpKind::sub: return at::sub(x, in.at(1), n.alpha);
    case OpKind::concat: return at::cat(in, axis);
    case OpKind::crop: return x.slice(2, n.start, n.end);
    case OpKind::flatten: return x.reshape({x.size(0), -1});
    case OpKind::linear: return at::linear(x, p.weight, p.bias);
    case OpKind::softmax: return at::softmax(x, axis);
    case OpKind::log_softmax: return at::log_softmax(x, axis);
    case OpKind::dropout: return dropout_mask.defined() ? x * dropout_mask : x;
  }
  throw InternalError("graph: unknown op " + std::to_string(static_cast<int>(n.kind)));
}

}  // namespace deepmr::model::detail
