#include "change_reach.hpp"

#include <algorithm>
#include <climits>

namespace deepmr::model::detail {
namespace {

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int ceil_div(int a, int b) { return -floor_div(-a, b); }

// Output columns o of a convolution whose taps read a column in [first, last]: the hull over
// the taps t of { o : first <= o * stride + t * dilation - pad_left <= last }.
Window convolution_reach(const Layer& layer, Window in) {
  int first = INT_MAX, last = INT_MIN;
  for (int t = 0; t < layer.kernel; ++t) {
    const int offset = t * layer.dilation - layer.pad_left;
    const int lo = std::max(0, ceil_div(in.start - offset, layer.stride));
    const int hi = std::min(layer.out.width - 1, floor_div(in.end() - 1 - offset, layer.stride));
    if (lo > hi) continue;
    first = std::min(first, lo);
    last = std::max(last, hi);
  }
  return first > last ? Window{} : Window{first, last - first + 1};
}

}  // namespace

std::vector<Boundary> boundaries(const LayerStack& stack) {
  std::vector<Boundary> out;
  if (stack.layers.empty()) return out;
  Boundary shape{stack.layers.front().in.channels, stack.layers.front().in.width, false};
  out.push_back(shape);
  for (const Layer& layer : stack.layers) {
    switch (layer.kind) {
      case LayerKind::conv: shape = {layer.out.channels, layer.out.width, false}; break;
      case LayerKind::max_pool:
      case LayerKind::avg_pool: shape.width = layer.out.width; break;
      case LayerKind::flatten: shape.flat = true; break;
      case LayerKind::linear: shape = {layer.out.channels, 1, true}; break;
      default: break;
    }
    out.push_back(shape);
  }
  return out;
}

std::vector<Window> reach(const LayerStack& stack, int column) {
  std::vector<Window> windows;
  Window window{column, 1};
  windows.push_back(window);
  for (const Layer& layer : stack.layers) {
    switch (layer.kind) {
      case LayerKind::conv: window = convolution_reach(layer, window); break;
      case LayerKind::max_pool:
      case LayerKind::avg_pool: {
        // Columns past out.width * kernel are dropped by the pooling.
        const int first = window.start / layer.kernel;
        const int last = std::min(layer.out.width - 1, (window.end() - 1) / layer.kernel);
        window = first > last ? Window{} : Window{first, last - first + 1};
        break;
      }
      case LayerKind::linear: window = Window{0, 1}; break;
      default: break;
    }
    if (window.count == 0) return {};
    windows.push_back(window);
  }
  return windows;
}

}  // namespace deepmr::model::detail
