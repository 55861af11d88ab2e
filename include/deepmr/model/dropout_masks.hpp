#pragma once
// Paired Monte Carlo dropout masks. Sample n of a region fixes one mask per dropout layer; the
// reference and every mutant (both strands) are evaluated under it, so f(m; theta_n) - f(r; theta_n)
// is a paired difference. Masks are a pure function of (seed, region id, sample, layer, element):
// Philox4x32-10 with counter (element / 4, sample, dropout layer ordinal, region id) and key seed.
// Element e keeps its activation when a 24-bit uniform u_e >= p, scaled by 1 / (1 - p) as
// PyTorch's dropout does.

#include <cstdint>
#include <vector>

#include "deepmr/model/layer_stack.hpp"

namespace deepmr::model {

// A graph model (LayerStack::graph) has one mask per dropout node, in node order (the site
// ordinal), of the node's shape per example (row-major), drawn by the same scheme.
struct DropoutMasks {
  // One mask per dropout layer of the stack (or dropout node of the graph), in order: (channels x
  // width) values, each 0 or 1 / (1 - p).
  std::vector<std::vector<float>> layers;
  // The member of a deep ensemble (ensemble_network.hpp) that evaluates this sample: sample n is
  // member n mod K, under these masks of its own dropout layers (none without MC dropout). 0 for
  // one model.
  int member = 0;
};

// Throws InternalError when region_id does not fit the 32-bit counter word.
DropoutMasks draw_dropout_masks(const LayerStack& stack, std::uint64_t seed, std::uint64_t region_id,
                                std::uint32_t sample);

}  // namespace deepmr::model
