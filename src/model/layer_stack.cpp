#include "deepmr/model/layer_stack.hpp"

#include <algorithm>

#include "deepmr/common/error.hpp"
#include "deepmr/model/graph.hpp"

namespace deepmr::model {

std::string kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::conv: return "conv";
    case LayerKind::max_pool: return "max_pool";
    case LayerKind::avg_pool: return "avg_pool";
    case LayerKind::relu: return "relu";
    case LayerKind::threshold: return "threshold";
    case LayerKind::elu: return "elu";
    case LayerKind::batch_norm: return "batch_norm";
    case LayerKind::dropout: return "dropout";
    case LayerKind::flatten: return "flatten";
    case LayerKind::linear: return "linear";
    case LayerKind::sigmoid: return "sigmoid";
  }
  return "?";
}

std::vector<int> LayerStack::dropout_layers() const {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(layers.size()); ++i)
    if (layers[i].kind == LayerKind::dropout) out.push_back(i);
  return out;
}

int LayerStack::input_channels() const {
  if (graph) return graph->nodes.empty() ? 0 : static_cast<int>(graph->nodes.front().dims.at(0));
  return layers.empty() ? 0 : layers.front().in.channels;
}

int LayerStack::output_count() const {
  if (graph) return graph->flat_output_count();
  return layers.empty() ? 0 : static_cast<int>(layers.back().out.size());
}

std::vector<double> LayerStack::dropout_rates() const {
  std::vector<double> rates;
  if (graph) {
    for (int id : graph->dropout_nodes()) rates.push_back(graph->nodes[static_cast<std::size_t>(id)].p);
    return rates;
  }
  for (int i : dropout_layers()) rates.push_back(layers[static_cast<std::size_t>(i)].p);
  return rates;
}

double LayerStack::forward_macs() const {
  double macs = 0;
  if (graph) {  // conv, transposed conv and linear nodes: outputs x (weights per output)
    for (const GraphNode& n : graph->nodes) {
      if (n.kind != OpKind::conv && n.kind != OpKind::conv_transpose && n.kind != OpKind::linear) continue;
      if (n.weight.shape.empty()) continue;
      double out = 1;
      for (auto d : n.dims) out *= static_cast<double>(d);
      const double per_output = n.kind == OpKind::conv_transpose
                                    ? static_cast<double>(n.weight.numel()) / static_cast<double>(n.weight.shape.at(1)) / n.groups
                                    : static_cast<double>(n.weight.numel()) / static_cast<double>(n.weight.shape.at(0));
      macs += out * per_output;
    }
    return macs;
  }
  for (const auto& layer : layers) {
    if (layer.kind == LayerKind::conv)
      macs += static_cast<double>(layer.out.size()) * layer.in.channels * layer.kernel;
    else if (layer.kind == LayerKind::linear)
      macs += static_cast<double>(layer.out.size()) * layer.in.size();
  }
  return macs;
}

namespace {

// Computes shapes; returns an error message instead of throwing, so that length searches can probe.
std::string propagate_shapes(LayerStack& stack, int input_channels, int input_length) {
  Shape shape{input_channels, input_length};
  bool flat = false;
  for (auto& layer : stack.layers) {
    const std::string where = "layer '" + layer.path + "' (" + layer.type + ")";
    layer.in = shape;
    switch (layer.kind) {
      case LayerKind::conv: {
        if (flat) return where + " is a convolution after a flatten";
        const int in_channels = layer.weight.size() / std::max<std::size_t>(1, layer.bias.size()) / layer.kernel;
        if (in_channels != shape.channels)
          return where + " expects " + std::to_string(in_channels) + " input channels but receives " +
                 std::to_string(shape.channels);
        const int span = layer.dilation * (layer.kernel - 1) + 1;
        const int padded = shape.width + layer.pad_left + layer.pad_right;
        if (padded < span)
          return where + " needs at least " + std::to_string(span) + " input columns but receives " +
                 std::to_string(shape.width);
        shape = {static_cast<int>(layer.bias.size()), (padded - span) / layer.stride + 1};
        break;
      }
      case LayerKind::max_pool:
      case LayerKind::avg_pool:
        if (flat) return where + " is a pooling layer after a flatten";
        if (shape.width < layer.kernel)
          return where + " pools " + std::to_string(layer.kernel) + " columns but receives " +
                 std::to_string(shape.width);
        shape.width /= layer.kernel;
        break;
      case LayerKind::batch_norm:
        if (static_cast<int>(layer.weight.size()) != shape.channels)
          return where + " normalises " + std::to_string(layer.weight.size()) + " channels but receives " +
                 std::to_string(shape.channels);
        break;
      case LayerKind::flatten:
        shape = {static_cast<int>(shape.size()), 1};
        flat = true;
        break;
      case LayerKind::linear: {
        if (!flat && shape.width != 1)
          return where + " is applied to a " + std::to_string(shape.channels) + " x " + std::to_string(shape.width) +
                 " activation; flatten it first";
        const int in_features = layer.weight.size() / std::max<std::size_t>(1, layer.bias.size());
        if (in_features != shape.channels)
          return where + " expects " + std::to_string(in_features) + " input features but receives " +
                 std::to_string(shape.channels);
        shape = {static_cast<int>(layer.bias.size()), 1};
        flat = true;
        break;
      }
      default:
        break;  // elementwise: shape unchanged
    }
    layer.out = shape;
  }
  return "";
}

}  // namespace

void infer_shapes(LayerStack& stack, int input_channels, int input_length) {
  if (stack.layers.empty()) throw ModelError(stack.source + ": the model has no layers");
  std::string problem = propagate_shapes(stack, input_channels, input_length);
  if (!problem.empty())
    throw ModelError(stack.source + ": with input " + std::to_string(input_channels) + " x " +
                     std::to_string(input_length) + ", " + problem);
}

std::pair<int, int> accepted_input_lengths(LayerStack stack, int input_channels) {
  constexpr int kLongest = 1 << 20;
  int first = 0, last = -1;
  for (int length = 1; length <= kLongest; ++length) {
    if (propagate_shapes(stack, input_channels, length).empty()) {
      if (first == 0) first = length;
      last = length;
    } else if (first != 0) {
      break;  // widths only grow with the length: past the accepted range nothing fits again
    }
  }
  return {first, last};
}

std::pair<int, int> LayerStack::live_input_positions() const {
  // Walk back from the output: the columns of each activation that reach the output.
  int first = 0, last = -1;
  bool all = true;  // everything live (after a flatten / linear)
  for (int i = static_cast<int>(layers.size()) - 1; i >= 0; --i) {
    const Layer& layer = layers[i];
    if (all) {
      first = 0;
      last = layer.out.width - 1;
    }
    switch (layer.kind) {
      case LayerKind::flatten:
      case LayerKind::linear:
        all = true;
        continue;
      case LayerKind::conv: {
        all = false;
        const int lo = first * layer.stride - layer.pad_left;
        const int hi = last * layer.stride - layer.pad_left + layer.dilation * (layer.kernel - 1);
        first = std::max(0, lo);
        last = std::min(layer.in.width - 1, hi);
        break;
      }
      case LayerKind::max_pool:
      case LayerKind::avg_pool:
        all = false;
        first = first * layer.kernel;
        last = last * layer.kernel + layer.kernel - 1;
        break;
      default:
        all = false;
        break;
    }
  }
  if (all) return {0, layers.empty() ? -1 : layers.front().in.width - 1};
  return {first, last};
}

}  // namespace deepmr::model
