#pragma once
// Elementwise activations of the CPU kernels, shared by the full and the incremental paths so that
// both apply exactly the same operations to a value. Internal to the model layer.

#include <cmath>
#include <cstddef>

#include "deepmr/model/layer_stack.hpp"

namespace deepmr::model::detail {

inline bool is_activation(LayerKind kind) {
  return kind == LayerKind::relu || kind == LayerKind::threshold || kind == LayerKind::elu ||
         kind == LayerKind::sigmoid;
}

// x[i] = f(x[i]) for i < count. One loop per kind, so that the compiler vectorizes the simple ones
// (a comparison and a select are exact in any width).
inline void activate(const Layer& layer, float* x, std::size_t count) {
  switch (layer.kind) {
    // NaN passes through ReLU and Threshold as in PyTorch (clamp_min(x, 0) and x <= t ? v : x),
    // so a poisoned weight is seen downstream instead of turning into 0.
    case LayerKind::relu:
      for (std::size_t i = 0; i < count; ++i) x[i] = x[i] > 0.0f || x[i] != x[i] ? x[i] : 0.0f;
      return;
    case LayerKind::threshold: {
      const float threshold = static_cast<float>(layer.threshold), value = static_cast<float>(layer.value);
      for (std::size_t i = 0; i < count; ++i) x[i] = x[i] <= threshold ? value : x[i];
      return;
    }
    case LayerKind::elu: {
      const float alpha = static_cast<float>(layer.alpha);
      for (std::size_t i = 0; i < count; ++i) x[i] = x[i] > 0.0f ? x[i] : alpha * std::expm1(x[i]);
      return;
    }
    case LayerKind::sigmoid:
      for (std::size_t i = 0; i < count; ++i) x[i] = 1.0f / (1.0f + std::exp(-x[i]));
      return;
    default: return;
  }
}

// max(a, b) as PyTorch's max pooling takes it: NaN wins (std::max would drop a NaN b).
inline float nan_max(float a, float b) { return b > a || b != b ? b : a; }


// Scalar activations of graph nodes (graph_kernel_network.cpp), in float32 as PyTorch's CPU
// kernels compute them. One libm call (or none) per value, the same code on every ISA, so results
// never depend on the instruction set.
inline float relu(float x) { return x > 0.0f || x != x ? x : 0.0f; }  // NaN passes (clamp_min)
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
// elu(alpha, scale, input_scale): x > 0 ? scale * x : alpha * scale * (exp(input_scale * x) - 1).
inline float elu(float x, float alpha, float scale, float input_scale) {
  return x > 0.0f || x != x ? x * scale : std::expm1(x * input_scale) * (alpha * scale);
}
// gelu: exact, 0.5 x (1 + erf(x / sqrt 2)), or the tanh form.
inline float gelu(float x, bool approximate_tanh) {
  if (!approximate_tanh) return x * 0.5f * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
  constexpr float kBeta = static_cast<float>(M_SQRT2 * M_2_SQRTPI * 0.5);  // sqrt(2 / pi)
  constexpr float kKappa = 0.044715f;
  const float inner = kBeta * (x + kKappa * x * x * x);
  return 0.5f * x * (1.0f + std::tanh(inner));
}
// softplus(beta, threshold): x where beta x > threshold (linear there), else log1p(exp(beta x)) / beta.
inline float softplus(float x, float beta, float threshold) {
  return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta;
}

}  // namespace deepmr::model::detail
