#pragma once
// Internal to the model layer: the kernels backend of Network for graph models (issue 16;
// graph_kernel_network.cpp). No LibTorch here: deepmr's own kernels (gemm.hpp, pointwise.hpp) and
// plain C++ only.

#include <memory>
#include <vector>

#include "deepmr/model/gemm.hpp"
#include "deepmr/model/network.hpp"

namespace deepmr::model {

// Evaluates LayerStack::graph node by node in float32 on the CPU. Convolutions (grouped: one
// product per group), transposed convolutions (a gather of the input per output column: the
// transposed im2col) and linear layers are deepmr's packed matrix products, their weights packed
// once at construction (a float64 module's parameters rounded once to float32, as the torch
// backend does); every other op is a plain loop whose sums run in index order. Each output element
// is one fixed chain of operations that depends neither on the batch nor on the thread count nor
// on the ISA (scalar, AVX2, AVX-512): results are bitwise identical across them, as for layer
// stacks on this backend.
//
// Dropout masks (DropoutMasks: one per dropout node, in node order, of the node's per-example
// shape) multiply the node's input as PyTorch's dropout does; without masks a dropout node is the
// identity. The outputs are indices into the graph's flattened outputs (Graph::flat_output_count).
class GraphKernelNetwork : public Network {
 public:
  GraphKernelNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs);
  ~GraphKernelNetwork() override;
  void forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) override;
  std::string description() const override;
  Backend backend() const override { return Backend::kernels; }
  Device device() const override { return Device{}; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepmr::model
