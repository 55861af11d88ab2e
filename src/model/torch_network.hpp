#pragma once
// Internal to the model layer: the torch backend of Network (torch_network.cpp). No LibTorch types
// in this header.

#include <memory>

#include "deepmr/model/network.hpp"

namespace deepmr::model {

class TorchNetwork : public Network {
 public:
  TorchNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs, const Device& device);
  ~TorchNetwork() override;
  void forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) override;
  std::string description() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepmr::model
