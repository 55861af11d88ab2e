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
  Backend backend() const override { return Backend::kernels; }
  Device device() const override { return Device{}; }
  // forward(), also keeping the activation at every layer boundary: boundaries[b] is the input of
  // layer b (b = layers: the output), channel-major over the batch as computed here: x[c][example][w],
  // or x[feature][example] after a flatten; in the head only the requested outputs' channels.
  void forward_keeping(const float* inputs, int batch, const DropoutMasks* masks, float* out,
                       std::vector<std::vector<float>>& boundaries);
  // The first layer computed for the requested outputs only (layers.size() when none is).
  int head_start() const { return head_start_; }

 private:
  struct Step {
    const Layer* layer = nullptr;
    bool head = false;             // at or after the last Linear: only requested outputs computed
    int dropout_ordinal = -1;
    std::vector<int> channels;     // output channels computed by this step (model indices)
    PackedMatrix weights;          // conv / linear rows for `channels`
  };
  void run(const float* inputs, int batch, const DropoutMasks* masks, float* out,
           std::vector<std::vector<float>>* boundaries);
  std::vector<Step> steps_;
  int head_start_ = 0;
  std::vector<float> x_, y_;  // activations (reused between calls)
};

}  // namespace deepmr::model
