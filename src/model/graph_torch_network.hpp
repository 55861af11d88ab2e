#pragma once
// Internal to the model layer: the torch backend of Network for graph models (issue 16;
// graph_torch_network.cpp). No LibTorch types in this header.

#include <memory>

#include "deepmr/model/network.hpp"

namespace deepmr::model {

// Evaluates LayerStack::graph node by node with ATen operators in float32 on the CPU or a CUDA
// device (the parameters rounded once to float32, batch norm from its running statistics as
// PyTorch's eval mode). The outputs are indices into the graph's flattened outputs
// (Graph::flat_output_count). Dropout masks (DropoutMasks: one per dropout node, in node order)
// multiply the node's input, as PyTorch's dropout does; without masks a dropout node is the identity.
// Rows are evaluated in chunks of a fixed size (zero-padded), so outputs do not depend on the batch.
class GraphTorchNetwork : public Network {
 public:
  GraphTorchNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs, const Device& device);
  ~GraphTorchNetwork() override;
  void forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) override;
  std::string description() const override;
  Backend backend() const override { return Backend::torch; }
  Device device() const override { return device_; }
  // Rows per operator call (forward pads the last chunk): fixed, so that results do not depend on
  // the caller's batch. The incremental graph network (incremental_graph_torch.cpp) uses the same.
  static constexpr int kCpuChunk = 16;
  static constexpr int kCudaChunk = 128;

 private:
  void forward_chunk(const float* inputs, int batch, const DropoutMasks* masks, float* out);
  Device device_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepmr::model
