#pragma once
// The geometry of the incremental path (incremental_network.hpp): which columns of every
// activation a change of one input column can reach. Internal to the model layer.

#include <vector>

#include "deepmr/model/layer_stack.hpp"

namespace deepmr::model::detail {

// Columns [start, start + count) of one activation.
struct Window {
  int start = 0;
  int count = 0;
  int end() const { return start + count; }
  bool contains(int column) const { return column >= start && column < start + count; }
};

// Activation b (the input of layer b; b = layers.size() is the output) as the incremental path
// sees it: channels x width. A flatten keeps its input's channels x width (feature c * width + w)
// until the next Linear, whose output is features x 1.
struct Boundary {
  int channels = 0;
  int width = 0;
  bool flat = false;
};
std::vector<Boundary> boundaries(const LayerStack& stack);

// For a change of input column `column`: at every boundary, the hull of the columns it can reach.
// Empty when it cannot reach the output (e.g. DeepSEA's last five positions, which feed only
// columns that pooling drops).
std::vector<Window> reach(const LayerStack& stack, int column);

}  // namespace deepmr::model::detail
