#pragma once
// Known architectures built in memory with random weights, for benchmarks and tests that need a
// realistic network without a 211 MB model file.

#include <cstdint>
#include <string>

#include "deepmr/model/layer_stack.hpp"

namespace deepmr::model {

// Kipoi's DeepSEA (deep-mr-notes.md): Conv2d layout, AGCT, strand-averaged, L = 1000, 919 outputs.
// Weights uniform in +-1/sqrt(fan_in), like PyTorch's default initialisation.
LayerStack deepsea_architecture(std::uint64_t seed = 1);

// By name ("deepsea"); throws UsageError for unknown names.
LayerStack architecture(const std::string& name, std::uint64_t seed = 1);

}  // namespace deepmr::model
