#pragma once
// Layer stacks built in memory with random weights: the shapes the fixture files do not cover
// (strides, asymmetric padding, dropout and batch norm after a flatten, a fully convolutional
// head, no dropout at all) and a narrow DeepSEA (same geometry, few channels) that the full engine
// can run over a whole 1000-base window in a test.

#include <cmath>
#include <random>
#include <string>

#include "deepmr/model/layer_stack.hpp"

namespace deepmr::test {

class StackBuilder {
 public:
  explicit StackBuilder(unsigned seed, double gain = 2.0) : rng_(seed), gain_(gain) {}

  StackBuilder& conv(int in, int out, int kernel, int stride = 1, int dilation = 1, int pad_left = 0, int pad_right = 0) {
    model::Layer layer = weighted(model::LayerKind::conv, "Conv1d", out, in * kernel);
    layer.kernel = kernel;
    layer.stride = stride;
    layer.dilation = dilation;
    layer.pad_left = pad_left;
    layer.pad_right = pad_right;
    return push(layer);
  }
  StackBuilder& linear(int in, int out) { return push(weighted(model::LayerKind::linear, "Linear", out, in)); }
  StackBuilder& pool(int kernel, bool max = true) {
    model::Layer layer = simple(max ? model::LayerKind::max_pool : model::LayerKind::avg_pool, max ? "MaxPool1d" : "AvgPool1d");
    layer.kernel = layer.stride = kernel;
    return push(layer);
  }
  StackBuilder& relu() { return push(simple(model::LayerKind::relu, "ReLU")); }
  StackBuilder& sigmoid() { return push(simple(model::LayerKind::sigmoid, "Sigmoid")); }
  StackBuilder& threshold() {
    model::Layer layer = simple(model::LayerKind::threshold, "Threshold");
    layer.value = 1e-6;
    return push(layer);
  }
  StackBuilder& elu(double alpha) {
    model::Layer layer = simple(model::LayerKind::elu, "ELU");
    layer.alpha = alpha;
    return push(layer);
  }
  StackBuilder& batch_norm(int channels) {
    model::Layer layer = simple(model::LayerKind::batch_norm, "BatchNorm1d");
    std::uniform_real_distribution<float> scale(0.5f, 1.5f), shift(-0.3f, 0.3f);
    for (int c = 0; c < channels; ++c) {
      layer.weight.push_back(scale(rng_));
      layer.bias.push_back(shift(rng_));
    }
    return push(layer);
  }
  StackBuilder& dropout(double p) {
    model::Layer layer = simple(model::LayerKind::dropout, "Dropout");
    layer.p = p;
    return push(layer);
  }
  StackBuilder& flatten() { return push(simple(model::LayerKind::flatten, "Flatten")); }

  model::LayerStack build(const std::string& name, int length, bool reverse_complement, const std::string& alphabet = "ACGT") {
    stack_.source = name;
    stack_.options.alphabet = alphabet;
    stack_.options.reverse_complement_average = reverse_complement;
    stack_.options.input_length = length;
    model::infer_shapes(stack_, 4, length);
    return stack_;
  }

 private:
  model::Layer simple(model::LayerKind kind, const std::string& type) {
    model::Layer layer;
    layer.kind = kind;
    layer.type = type;
    layer.path = "net." + std::to_string(stack_.layers.size());
    return layer;
  }
  model::Layer weighted(model::LayerKind kind, const std::string& type, int out, int fan_in) {
    model::Layer layer = simple(kind, type);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const float bound = static_cast<float>(gain_ / std::sqrt(static_cast<double>(fan_in)));
    layer.weight.resize(static_cast<std::size_t>(out) * fan_in);
    for (auto& w : layer.weight) w = u(rng_) * bound;
    layer.bias.resize(out);
    for (auto& b : layer.bias) b = u(rng_) * bound;
    return layer;
  }
  StackBuilder& push(const model::Layer& layer) {
    stack_.layers.push_back(layer);
    return *this;
  }

  std::mt19937 rng_;
  double gain_;
  model::LayerStack stack_;
};

// Strided, padded and dilated convolutions, BN + ELU, average pooling, dropout and batch norm
// after the flatten: 61 bases.
inline model::LayerStack strided_stack(bool reverse_complement) {
  return StackBuilder(21)
      .conv(4, 6, 5, 2, 1, 2, 1).batch_norm(6).elu(0.7).pool(2, false).dropout(0.3)
      .conv(6, 5, 3, 1, 2, 1, 2).relu().dropout(0.2)
      .conv(5, 4, 2, 3).sigmoid()
      .flatten().batch_norm(4 * 5).dropout(0.4).linear(4 * 5, 7).threshold().dropout(0.1).linear(7, 3).sigmoid()
      .build("strided", 61, reverse_complement);
}

// No Linear: the outputs are the channels x columns of the last convolution (a head the networks
// cannot slice) and columns that pooling drops. 40 bases, outputs 3 x 4.
inline model::LayerStack fully_convolutional_stack(bool reverse_complement) {
  return StackBuilder(22)
      .conv(4, 6, 7).relu().pool(2).dropout(0.25)
      .conv(6, 5, 5, 1, 1, 2, 2).relu().pool(3).dropout(0.2)
      .conv(5, 3, 2).sigmoid()
      .build("fully convolutional", 40, reverse_complement);
}

// No dropout layer: every Monte Carlo sample is the same network.
inline model::LayerStack no_dropout_stack() {
  return StackBuilder(23).conv(4, 5, 4).relu().pool(3).flatten().linear(5 * 10, 4).sigmoid().build("no dropout", 33, true);
}

// DeepSEA's layers and geometry (L = 1000, AGCT, 995..999 unreachable forward) with 12, 16, 20 and
// 24 channels instead of 320, 480, 960 and 925.
inline model::LayerStack narrow_deepsea_stack(bool reverse_complement) {
  return StackBuilder(24, 1.5)
      .conv(4, 12, 8).threshold().pool(4).dropout(0.2)
      .conv(12, 16, 8).threshold().pool(4).dropout(0.2)
      .conv(16, 20, 8).threshold().dropout(0.5)
      .flatten().linear(20 * 53, 24).threshold().linear(24, 9).sigmoid()
      .build("narrow deepsea", 1000, reverse_complement, "AGCT");
}

}  // namespace deepmr::test
