// The torch backend for graph models: every node of the Graph on ATen operators in float32, in
// the graph's (topological) order, on the CPU or a CUDA device.

#include "graph_torch_network.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "deepmr/common/error.hpp"
#include "deepmr/model/graph.hpp"
#include "graph_ops.hpp"
#include "torch_network.hpp"  // use_exact_cuda_numerics

namespace deepmr::model {
namespace {

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
    detail::NodeTensors tensors;
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
    step.tensors = detail::node_tensors(n, at::kFloat, impl_->device);  // a float64 module rounded once
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
    std::vector<at::Tensor> in;
    for (int id : n.inputs) in.push_back(values.at(static_cast<std::size_t>(id)));
    at::Tensor mask;  // the sample's, at a dropout site under MC dropout
    if (n.kind == OpKind::dropout && masks) {
      const auto& mask_values = masks->layers.at(static_cast<std::size_t>(step.dropout_ordinal));
      mask = at::from_blob(const_cast<float*>(mask_values.data()), with_batch(1, n.dims), at::kFloat);
      if (mask.numel() != static_cast<std::int64_t>(mask_values.size()))
        throw InternalError("GraphTorchNetwork: a dropout mask of the wrong size");
      mask = mask.to(impl_->device);
    }
    const at::Tensor y = detail::apply_node(n, step.tensors, in, mask);
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
