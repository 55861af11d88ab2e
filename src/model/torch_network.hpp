#pragma once
// Internal to the model layer: the torch backend of Network (torch_network.cpp). No LibTorch types
// in this header.

#include <memory>

#include "deepmr/model/network.hpp"

namespace deepmr::model {

// On CUDA, LibTorch may use TF32 (10-bit mantissa) for float32 products and nondeterministic
// cuDNN algorithms by default; deepmr wants float32 results that repeat. Called by every torch
// path before it runs on a GPU.
void use_exact_cuda_numerics();

class TorchNetwork : public Network {
 public:
  TorchNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs, const Device& device);
  ~TorchNetwork() override;
  void forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) override;
  std::string description() const override;
  Backend backend() const override { return Backend::torch; }
  Device device() const override { return device_; }

 private:
  Device device_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepmr::model
