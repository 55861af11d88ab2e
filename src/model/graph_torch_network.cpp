// The torch backend for graph models: every node of the Graph on ATen operators in float32, in
// the graph's (topological) order, on the CPU or a CUDA device.

#include "graph_torch_network.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "deepmr/common/error.hpp"
#include "deepmr/model/graph.hpp"
#include "torch_network.hpp"  // use_exact_cuda_numerics

namespace deepmr::model {
namespace {

// A parameter rounded once to float32 (a float64 module's values too), on the device.
at::Tensor to_float(const GraphTensor& t, const at::Device& device) {
  if (t.empty()) return at::Tensor();
  at::Tensor host;
  if (t.float64) {
    host = at::from_blob(const_cast<double*>(t.f64.data()), t.shape, at::kDouble).to(at::kFloat);
  } else {
    host = at::from_blob(const_cast<float*>(t.f32.data()), t.shape, at::kFloat).clone();
  }
  return host.to(device);
}

std::vector<std::int64_t> with_batch(std::int64_t batch, const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> shape{batch};
  shape.insert(shape.end(), dims.begin(), dims.end());
  return shape;
}

}  // namespace

struct GraphTorchNetwork::Impl {
  at::Device device{at::kCPU};
  const Graph* graph = nullptr;
  struct Step {
    at::Tensor weight, bias, running_mean, running_var;
    int dropout_ordinal = -1;
    int last_use = -1;  // the last node (or output gathering: nodes.size()) reading this node's value
  };
  std::vector<Step> steps;
  std::vector<int> output_nodes;  // the named outputs' nodes, in order
  at::Tensor output_index;
};

GraphTorchNetwork::GraphTorchNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs,
                                     const Device& device)
    : Network(std::move(stack), std::move(outputs)), device_(device), impl_(std::make_unique<Impl>()) {
  if (!stack_->graph) throw InternalError("GraphTorchNetwork: the model is not a graph");
  impl_->graph = stack_->graph.get();
  impl_->device = device.kind == Device::Kind::cuda ? at::Device(at::kCUDA, device.index) : at::Device(at::kCPU);
  if (device.kind == Device::Kind::cuda) use_exact_cuda_numerics();
  const Graph& graph = *impl_->graph;
  if (graph.nodes.empty() || graph.nodes.front().kind != OpKind::input || graph.nodes.front().dims.size() != 2)
    throw InternalError("GraphTorchNetwork: the graph has no sequence input node");
  impl_->steps.resize(graph.nodes.size());
  int ordinal = 0;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    auto& step = impl_->steps[i];
    step.weight = to_float(n.weight, impl_->device);
    step.bias = to_float(n.bias, impl_->device);
    step.running_mean = to_float(n.running_mean, impl_->device);
    step.running_var = to_float(n.running_var, impl_->device);
    if (n.kind == OpKind::dropout) step.dropout_ordinal = ordinal++;
    for (int id : n.inputs) impl_->steps.at(static_cast<std::size_t>(id)).last_use = static_cast<int>(i);
  }
  for (const auto& named : graph.named_outputs()) {
    impl_->output_nodes.push_back(named.node);
    impl_->steps.at(static_cast<std::size_t>(named.node)).last_use = static_cast<int>(graph.nodes.size());
  }
  impl_->output_index = at::tensor(std::vector<int64_t>(outputs_.begin(), outputs_.end()), at::kLong).to(impl_->device);
}

GraphTorchNetwork::~GraphTorchNetwork() = default;

std::string GraphTorchNetwork::description() const {
  return impl_->device.is_cuda() ? "cuda:" + std::to_string(impl_->device.index()) + ", LibTorch operators (graph)"
                                 : "cpu, LibTorch operators (graph)";
}

// LibTorch's operators may round a row differently with the batch's size (a batch of one takes
// other code paths on the CPU): the rows are evaluated in chunks of one fixed size, the last one
// padded with zero rows, so that every operator sees the same shapes whatever the caller's batch
// and a row's outputs do not depend on it (paired masks: a substitution between bases the model
// reads alike has an effect of exactly zero).
void GraphTorchNetwork::forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) {
  const int chunk = impl_->device.is_cuda() ? kCudaChunk : kCpuChunk;
  const auto& input_dims = impl_->graph->nodes.front().dims;
  const std::size_t row_in = static_cast<std::size_t>(input_dims.at(0) * input_dims.at(1));
  const std::size_t row_out = outputs_.size();
  std::vector<float> padded_in, padded_out;
  for (int first = 0; first < batch; first += chunk) {
    const int rows = std::min(chunk, batch - first);
    const float* x = inputs + row_in * first;
    float* y = out + row_out * first;
    if (rows == chunk) {
      forward_chunk(x, chunk, masks, y);
      continue;
    }
    padded_in.assign(row_in * chunk, 0.0f);
    std::copy(x, x + row_in * rows, padded_in.begin());
    padded_out.resize(row_out * chunk);
    forward_chunk(padded_in.data(), chunk, masks, padded_out.data());
    std::copy(padded_out.begin(), padded_out.begin() + static_cast<std::ptrdiff_t>(row_out * rows), y);
  }
}

void GraphTorchNetwork::forward_chunk(const float* inputs, int batch, const DropoutMasks* masks, float* out) {
  c10::InferenceMode guard;
  const Graph& graph = *impl_->graph;
  const auto& nodes = graph.nodes;
  std::vector<at::Tensor> values(nodes.size());
  values[0] = at::from_blob(const_cast<float*>(inputs), with_batch(batch, nodes[0].dims), at::kFloat).to(impl_->device);
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    const GraphNode& n = nodes[i];
    const auto& step = impl_->steps[i];
    const at::Tensor& x = values.at(static_cast<std::size_t>(n.inputs.at(0)));
    const std::int64_t axis = n.axis + 1;  // the batch comes first
    at::Tensor y;
    switch (n.kind) {
      case OpKind::input: throw InternalError("GraphTorchNetwork: an input node inside the graph");
      case OpKind::conv: {
        const std::vector<std::int64_t> stride{n.stride}, dilation{n.dilation};
        if (n.pad_left == n.pad_right) {
          y = at::conv1d(x, step.weight, step.bias, stride, std::vector<std::int64_t>{n.pad_left}, dilation, n.groups);
        } else {
          y = at::conv1d(at::constant_pad_nd(x, {n.pad_left, n.pad_right}, 0.0), step.weight, step.bias, stride,
                         std::vector<std::int64_t>{0}, dilation, n.groups);
        }
        break;
      }
      case OpKind::conv_transpose:
        y = at::conv_transpose1d(x, step.weight, step.bias, std::vector<std::int64_t>{n.stride},
                                 std::vector<std::int64_t>{n.pad_left}, std::vector<std::int64_t>{n.output_padding},
                                 n.groups, std::vector<std::int64_t>{n.dilation});
        break;
      case OpKind::max_pool:
        y = at::max_pool1d(x, std::vector<std::int64_t>{n.kernel}, std::vector<std::int64_t>{n.stride},
                           std::vector<std::int64_t>{n.pad_left}, std::vector<std::int64_t>{n.dilation}, false);
        break;
      case OpKind::avg_pool:
        y = at::avg_pool1d(x, std::vector<std::int64_t>{n.kernel}, std::vector<std::int64_t>{n.stride},
                           std::vector<std::int64_t>{n.pad_left}, false, n.count_include_pad);
        break;
      case OpKind::mean: y = at::mean(x, std::vector<std::int64_t>{axis}, n.keepdim); break;
      case OpKind::max: y = at::amax(x, std::vector<std::int64_t>{axis}, n.keepdim); break;
      case OpKind::logsumexp: y = at::logsumexp(x, std::vector<std::int64_t>{axis}, n.keepdim); break;
      case OpKind::relu: y = at::relu(x); break;
      case OpKind::elu: y = at::elu(x, n.alpha, n.scale, n.input_scale); break;
      case OpKind::gelu: y = at::gelu(x, n.approximate_tanh ? "tanh" : "none"); break;
      case OpKind::softplus: y = at::softplus(x, n.beta, n.threshold); break;
      case OpKind::sigmoid: y = at::sigmoid(x); break;
      case OpKind::tanh: y = at::tanh(x); break;
      case OpKind::exp: y = at::exp(x); break;
      case OpKind::threshold: y = at::threshold(x, n.threshold, n.value); break;
      case OpKind::batch_norm:
        y = at::batch_norm(x, step.weight, step.bias, step.running_mean, step.running_var, false, 0.0, n.eps, false);
        break;
      case OpKind::add_constant: y = at::add(x, n.constant, n.alpha); break;
      case OpKind::sub_constant: y = at::sub(x, n.constant, n.alpha); break;
      case OpKind::mul_constant: y = at::mul(x, n.constant); break;
      case OpKind::div_constant: y = at::div(x, n.constant); break;
      case OpKind::add: y = at::add(x, values.at(static_cast<std::size_t>(n.inputs.at(1))), n.alpha); break;
      case OpKind::sub: y = at::sub(x, values.at(static_cast<std::size_t>(n.inputs.at(1))), n.alpha); break;
      case OpKind::concat: {
        std::vector<at::Tensor> parts;
        for (int id : n.inputs) parts.push_back(values.at(static_cast<std::size_t>(id)));
        y = at::cat(parts, axis);
        break;
      }
      case OpKind::crop: y = x.slice(2, n.start, n.end); break;
      case OpKind::flatten: y = x.reshape({batch, -1}); break;
      case OpKind::linear: y = at::linear(x, step.weight, step.bias); break;
      case OpKind::softmax: y = at::softmax(x, axis); break;
      case OpKind::log_softmax: y = at::log_softmax(x, axis); break;
      case OpKind::dropout: {
        if (!masks) {
          y = x;
          break;
        }
        const auto& mask_values = masks->layers.at(static_cast<std::size_t>(step.dropout_ordinal));
        auto mask = at::from_blob(const_cast<float*>(mask_values.data()), with_batch(1, n.dims), at::kFloat);
        if (mask.numel() != static_cast<std::int64_t>(mask_values.size()))
          throw InternalError("GraphTorchNetwork: a dropout mask of the wrong size");
        y = x * mask.to(impl_->device);
        break;
      }
    }
    values[i] = y;
    // Free the values no later node reads.
    for (int id : n.inputs)
      if (impl_->steps[static_cast<std::size_t>(id)].last_use == static_cast<int>(i))
        values[static_cast<std::size_t>(id)] = at::Tensor();
  }
  std::vector<at::Tensor> heads;
  for (int id : impl_->output_nodes) heads.push_back(values.at(static_cast<std::size_t>(id)).reshape({batch, -1}));
  auto flat = heads.size() == 1 ? heads.front() : at::cat(heads, 1);
  auto host = flat.index_select(1, impl_->output_index).to(at::kCPU).contiguous();
  std::memcpy(out, host.data_ptr<float>(), sizeof(float) * host.numel());
}

}  // namespace deepmr::model
