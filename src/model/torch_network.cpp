// The torch backend: the layer stack on LibTorch operators, on CPU or CUDA. This is the GPU path;
// on the CPU it serves as a cross-check of the kernels backend.

#include <ATen/ATen.h>

#include "deepmr/common/error.hpp"
#include "torch_network.hpp"

namespace deepmr::model {

namespace {
at::Tensor to_tensor(const std::vector<float>& values, std::vector<int64_t> shape, const at::Device& device) {
  return at::from_blob(const_cast<float*>(values.data()), shape, at::kFloat).clone().to(device);
}
}  // namespace

void use_exact_cuda_numerics() {
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setDeterministicCuDNN(true);
  at::globalContext().setBenchmarkCuDNN(false);
}

struct TorchNetwork::Impl {
  at::Device device{at::kCPU};
  struct Step {
    const Layer* layer;
    at::Tensor weight, bias;  // conv: out x in x k; linear: out x in; bn: scale, shift
    at::Tensor channels;      // dropout in the head: mask indices of the computed channels
    int dropout_ordinal = -1;
    bool head = false;
  };
  std::vector<Step> steps;
  bool sliced = false;
  at::Tensor output_index;
};

TorchNetwork::TorchNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs, const Device& device)
    : Network(std::move(stack), std::move(outputs)), device_(device), impl_(std::make_unique<Impl>()) {
  impl_->device = device.kind == Device::Kind::cuda ? at::Device(at::kCUDA, device.index) : at::Device(at::kCPU);
  if (device.kind == Device::Kind::cuda) use_exact_cuda_numerics();
  const auto& layers = stack_->layers;
  int last_linear = -1;
  for (int i = 0; i < static_cast<int>(layers.size()); ++i)
    if (layers[i].kind == LayerKind::linear) last_linear = i;
  bool sliceable = last_linear >= 0;
  for (std::size_t i = last_linear + 1; sliceable && i < layers.size(); ++i) {
    const auto kind = layers[i].kind;
    sliceable = kind == LayerKind::relu || kind == LayerKind::threshold || kind == LayerKind::elu ||
                kind == LayerKind::sigmoid || kind == LayerKind::batch_norm || kind == LayerKind::dropout;
  }
  impl_->sliced = sliceable;
  auto index = at::tensor(std::vector<int64_t>(outputs_.begin(), outputs_.end()), at::kLong);
  impl_->output_index = index.to(impl_->device);

  int ordinal = 0;
  for (int i = 0; i < static_cast<int>(layers.size()); ++i) {
    const Layer& layer = layers[i];
    Impl::Step step;
    step.layer = &layer;
    step.head = sliceable && i >= last_linear;
    if (layer.kind == LayerKind::dropout) step.dropout_ordinal = ordinal++;
    const int64_t out_channels = layer.out.channels;
    if (layer.kind == LayerKind::conv) {
      step.weight = to_tensor(layer.weight, {out_channels, layer.in.channels, layer.kernel}, impl_->device);
      step.bias = to_tensor(layer.bias, {out_channels}, impl_->device);
    } else if (layer.kind == LayerKind::linear) {
      step.weight = to_tensor(layer.weight, {out_channels, layer.in.channels}, impl_->device);
      step.bias = to_tensor(layer.bias, {out_channels}, impl_->device);
    } else if (layer.kind == LayerKind::batch_norm) {
      step.weight = to_tensor(layer.weight, {out_channels}, impl_->device);
      step.bias = to_tensor(layer.bias, {out_channels}, impl_->device);
    }
    if (step.head && step.weight.defined()) {
      step.weight = step.weight.index_select(0, impl_->output_index);
      step.bias = step.bias.index_select(0, impl_->output_index);
    }
    impl_->steps.push_back(step);
  }
}

TorchNetwork::~TorchNetwork() = default;

std::string TorchNetwork::description() const {
  return impl_->device.is_cuda() ? "cuda:" + std::to_string(impl_->device.index()) + ", LibTorch operators"
                                 : "cpu, LibTorch operators";
}

void TorchNetwork::forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) {
  c10::InferenceMode guard;
  const auto& first = stack_->layers.front();
  auto x = at::from_blob(const_cast<float*>(inputs), {batch, first.in.channels, first.in.width}, at::kFloat)
               .to(impl_->device);
  for (const auto& step : impl_->steps) {
    const Layer& layer = *step.layer;
    const bool three_d = x.dim() == 3;
    switch (layer.kind) {
      case LayerKind::conv:
        if (layer.pad_left != layer.pad_right) {
          x = at::constant_pad_nd(x, {layer.pad_left, layer.pad_right});
          x = at::conv1d(x, step.weight, step.bias, at::IntArrayRef{layer.stride}, at::IntArrayRef{0},
                         at::IntArrayRef{layer.dilation});
        } else {
          x = at::conv1d(x, step.weight, step.bias, at::IntArrayRef{layer.stride}, at::IntArrayRef{layer.pad_left},
                         at::IntArrayRef{layer.dilation});
        }
        break;
      case LayerKind::max_pool: x = at::max_pool1d(x, layer.kernel, layer.kernel); break;
      case LayerKind::avg_pool: x = at::avg_pool1d(x, layer.kernel, layer.kernel); break;
      case LayerKind::relu: x = at::relu(x); break;
      case LayerKind::threshold: x = at::threshold(x, layer.threshold, layer.value); break;
      case LayerKind::elu: x = at::elu(x, layer.alpha); break;
      case LayerKind::sigmoid: x = at::sigmoid(x); break;
      case LayerKind::batch_norm:
        x = three_d ? x * step.weight.view({1, -1, 1}) + step.bias.view({1, -1, 1})
                    : x * step.weight.view({1, -1}) + step.bias.view({1, -1});
        break;
      case LayerKind::dropout: {
        if (!masks) break;
        auto mask = at::from_blob(const_cast<float*>(masks->layers.at(step.dropout_ordinal).data()),
                                  {layer.in.channels, layer.in.width}, at::kFloat)
                        .to(impl_->device);
        if (step.head) mask = mask.index_select(0, impl_->output_index);
        x = three_d ? x * mask.unsqueeze(0) : x * mask.view({1, -1});
        break;
      }
      case LayerKind::flatten: x = x.reshape({batch, -1}); break;
      case LayerKind::linear: x = at::linear(x, step.weight, step.bias); break;
    }
  }
  x = x.reshape({batch, -1});
  if (!impl_->sliced) x = x.index_select(1, impl_->output_index);
  auto host = x.to(at::kCPU).contiguous();
  std::memcpy(out, host.data_ptr<float>(), sizeof(float) * host.numel());
}

}  // namespace deepmr::model
