#pragma once
// Internal to the model layer: the incremental network on LibTorch operators, on CPU or CUDA
// (incremental_torch.cpp). No LibTorch types in this header.

#include <memory>
#include <vector>

#include "deepmr/model/incremental_network.hpp"

namespace deepmr::model {

std::unique_ptr<IncrementalNetwork> make_incremental_torch(std::shared_ptr<const LayerStack> stack,
                                                           std::vector<int> outputs, const Device& device,
                                                           const IncrementalOptions& options = {});

}  // namespace deepmr::model
