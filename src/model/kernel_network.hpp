#pragma once
// Internal to the model layer: the kernels backend of Network (kernel_network.cpp).

#include "deepmr/model/gemm.hpp"
#include "deepmr/model/network.hpp"

namespace deepmr::model {

class KernelNetwork : public Network {
 public:
  KernelNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs);
  void forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) override;
  std::string description() const override;

 private:
  struct Step {
    const Layer* layer = nullptr;
    bool head = false;             // at or after the last Linear: only requested outputs computed
    int dropout_ordinal = -1;
    std::vector<int> channels;     // output channels computed by this step (model indices)
    PackedMatrix weights;          // conv / linear rows for `channels`
  };
  std::vector<Step> steps_;
  int head_start_ = 0;
  std::vector<float> x_, y_;  // activations (reused between calls)
};

}  // namespace deepmr::model
