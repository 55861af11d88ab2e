// The kernels backend: the layer stack on deepmr's deterministic CPU kernels.
//
// Activations are kept channel-major over the batch, x[channel][example][column] ("CNW"), so that
// a convolution is one matrix product: weights (out x in*kernel) times the im2col view of x
// (in*kernel x examples*columns), whose result is already the next CNW activation.

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deepmr/common/error.hpp"
#include "deepmr/model/gemm.hpp"
#include "kernel_network.hpp"
#include "pointwise.hpp"

namespace deepmr::model {
namespace {

// The im2col view of a CNW activation for one convolution: row (tap, in channel), tap-major, column
// (example, output column); zero where the tap falls into the padding. Tap-major order matters:
// with one-hot input each tap contributes one nonzero product, so two bases with identical
// weights give bitwise identical sums (the paired-mask zero-effect guarantee).
class ConvolutionSource : public PanelSource {
 public:
  ConvolutionSource(const float* x, int channels, int batch, int width, int stride, int dilation, int pad_left,
                    int out_width)
      : x_(x), channels_(channels), batch_(batch), width_(width), stride_(stride), dilation_(dilation),
        pad_left_(pad_left), out_width_(out_width) {}

  void pack(int k0, int kc, int n0, int nr, float* dest) const override {
    const int n = batch_ * out_width_;
    for (int r = 0; r < kc; ++r) {
      const int row = k0 + r;
      const int tap = row / channels_, channel = row % channels_;
      const float* plane = x_ + static_cast<std::size_t>(channel) * batch_ * width_;
      float* out = dest + static_cast<std::size_t>(r) * nr;
      int example = n0 / out_width_, column = n0 % out_width_;
      for (int j = 0; j < nr; ++j) {
        float value = 0.0f;
        if (n0 + j < n) {
          const int position = column * stride_ + tap * dilation_ - pad_left_;
          if (position >= 0 && position < width_) value = plane[static_cast<std::size_t>(example) * width_ + position];
          if (++column == out_width_) {
            column = 0;
            ++example;
          }
        }
        out[j] = value;
      }
    }
  }

 private:
  const float* x_;
  int channels_, batch_, width_, stride_, dilation_, pad_left_, out_width_;
};

bool pointwise(LayerKind kind) {
  return kind == LayerKind::relu || kind == LayerKind::threshold || kind == LayerKind::elu ||
         kind == LayerKind::sigmoid || kind == LayerKind::batch_norm || kind == LayerKind::dropout;
}

}  // namespace

KernelNetwork::KernelNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs)
    : Network(std::move(stack), std::move(outputs)) {
  const auto& layers = stack_->layers;
  // The head: from the last Linear on, only the requested outputs' rows are computed, provided
  // everything after it works channel by channel.
  int last_linear = -1;
  for (int i = 0; i < static_cast<int>(layers.size()); ++i)
    if (layers[i].kind == LayerKind::linear) last_linear = i;
  head_start_ = static_cast<int>(layers.size());
  if (last_linear >= 0) {
    bool sliceable = true;
    for (std::size_t i = last_linear + 1; i < layers.size(); ++i) sliceable = sliceable && pointwise(layers[i].kind);
    if (sliceable) head_start_ = last_linear;
  }

  int dropout_ordinal = 0;
  for (int i = 0; i < static_cast<int>(layers.size()); ++i) {
    const Layer& layer = layers[i];
    Step step;
    step.layer = &layer;
    step.head = i >= head_start_;
    if (layer.kind == LayerKind::dropout) step.dropout_ordinal = dropout_ordinal++;
    // Channels this step computes: the requested outputs in the head, all channels elsewhere.
    const int channels = layer.out.channels;
    if (step.head) {
      step.channels = outputs_;
    } else {
      step.channels.resize(channels);
      for (int c = 0; c < channels; ++c) step.channels[c] = c;
    }
    if (layer.kind == LayerKind::conv || layer.kind == LayerKind::linear) {
      const int cols = static_cast<int>(layer.weight.size() / layer.bias.size());
      // Conv weights (out x in x kernel) are reordered tap-major to match ConvolutionSource's rows.
      const int kernel = layer.kind == LayerKind::conv ? layer.kernel : 1;
      const int in = cols / kernel;
      std::vector<float> rows;
      rows.reserve(step.channels.size() * cols);
      for (int c : step.channels)
        for (int tap = 0; tap < kernel; ++tap)
          for (int channel = 0; channel < in; ++channel)
            rows.push_back(layer.weight[(static_cast<std::size_t>(c) * in + channel) * kernel + tap]);
      step.weights = PackedMatrix(rows.data(), static_cast<int>(step.channels.size()), cols, cols);
    }
    steps_.push_back(std::move(step));
  }
}

std::string KernelNetwork::description() const { return "cpu, deepmr kernels (" + isa_name(active_isa()) + ")"; }

void KernelNetwork::forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) {
  run(inputs, batch, masks, out, nullptr);
}

void KernelNetwork::forward_keeping(const float* inputs, int batch, const DropoutMasks* masks, float* out,
                                    std::vector<std::vector<float>>& boundaries) {
  boundaries.resize(steps_.size() + 1);
  run(inputs, batch, masks, out, &boundaries);
}

void KernelNetwork::run(const float* inputs, int batch, const DropoutMasks* masks, float* out,
                        std::vector<std::vector<float>>* boundaries) {
  const auto& first = stack_->layers.front();
  const int threads = compute_threads();
  int channels = first.in.channels, width = first.in.width;

  // NCW -> CNW
  x_.resize(static_cast<std::size_t>(channels) * batch * width);
  for (int b = 0; b < batch; ++b)
    for (int c = 0; c < channels; ++c)
      std::memcpy(x_.data() + (static_cast<std::size_t>(c) * batch + b) * width,
                  inputs + (static_cast<std::size_t>(b) * channels + c) * width, sizeof(float) * width);

  for (std::size_t index = 0; index < steps_.size(); ++index) {
    const Step& step = steps_[index];
    const Layer& layer = *step.layer;
    if (boundaries) (*boundaries)[index] = x_;
    const int out_channels = static_cast<int>(step.channels.size());
    switch (layer.kind) {
      case LayerKind::conv: {
        const int out_width = layer.out.width;
        const int n = batch * out_width;
        y_.resize(static_cast<std::size_t>(out_channels) * n);
        ConvolutionSource source(x_.data(), channels, batch, width, layer.stride, layer.dilation, layer.pad_left,
                                 out_width);
        gemm(step.weights, source, n, y_.data(), n);
#pragma omp parallel for num_threads(threads)
        for (int c = 0; c < out_channels; ++c) {
          const float bias = layer.bias[step.channels[c]];
          float* row = y_.data() + static_cast<std::size_t>(c) * n;
          for (int j = 0; j < n; ++j) row[j] += bias;
        }
        x_.swap(y_);
        width = out_width;
        break;
      }
      case LayerKind::linear: {
        y_.resize(static_cast<std::size_t>(out_channels) * batch);
        gemm(step.weights, DenseSource(x_.data(), channels, batch, batch), batch, y_.data(), batch);
        for (int c = 0; c < out_channels; ++c)
          for (int b = 0; b < batch; ++b) y_[static_cast<std::size_t>(c) * batch + b] += layer.bias[step.channels[c]];
        x_.swap(y_);
        break;
      }
      case LayerKind::max_pool:
      case LayerKind::avg_pool: {
        const int k = layer.kernel, out_width = width / k;
        const bool is_max = layer.kind == LayerKind::max_pool;
        y_.resize(static_cast<std::size_t>(channels) * batch * out_width);
#pragma omp parallel for num_threads(threads)
        for (int row = 0; row < channels * batch; ++row) {
          const float* in = x_.data() + static_cast<std::size_t>(row) * width;
          float* o = y_.data() + static_cast<std::size_t>(row) * out_width;
          for (int i = 0; i < out_width; ++i) {
            float acc = in[i * k];
            for (int j = 1; j < k; ++j) acc = is_max ? detail::nan_max(acc, in[i * k + j]) : acc + in[i * k + j];
            o[i] = is_max ? acc : acc / static_cast<float>(k);
          }
        }
        x_.swap(y_);
        width = out_width;
        break;
      }
      case LayerKind::flatten: {
        // x[c][b][w] -> x[c * width + w][b]
        y_.resize(x_.size());
        for (int c = 0; c < channels; ++c)
          for (int b = 0; b < batch; ++b)
            for (int w = 0; w < width; ++w)
              y_[(static_cast<std::size_t>(c) * width + w) * batch + b] =
                  x_[(static_cast<std::size_t>(c) * batch + b) * width + w];
        x_.swap(y_);
        width = 1;
        break;
      }
      case LayerKind::dropout: {
        if (!masks) break;
        const auto& mask = masks->layers.at(step.dropout_ordinal);
#pragma omp parallel for num_threads(threads)
        for (int c = 0; c < out_channels; ++c) {
          const float* m = mask.data() + static_cast<std::size_t>(step.channels[c]) * width;
          for (int b = 0; b < batch; ++b) {
            float* row = x_.data() + (static_cast<std::size_t>(c) * batch + b) * width;
            for (int w = 0; w < width; ++w) row[w] *= m[w];
          }
        }
        break;
      }
      case LayerKind::batch_norm: {
#pragma omp parallel for num_threads(threads)
        for (int c = 0; c < out_channels; ++c) {
          const float scale = layer.weight[step.channels[c]], shift = layer.bias[step.channels[c]];
          float* row = x_.data() + static_cast<std::size_t>(c) * batch * width;
          for (std::size_t j = 0; j < static_cast<std::size_t>(batch) * width; ++j) row[j] = row[j] * scale + shift;
        }
        break;
      }
      default: {
        const std::size_t count = static_cast<std::size_t>(out_channels) * batch * width;
        constexpr std::size_t kChunk = 16384;
#pragma omp parallel for num_threads(threads)
        for (std::size_t j = 0; j < count; j += kChunk) detail::activate(layer, x_.data() + j, std::min(kChunk, count - j));
        break;
      }
    }
    channels = out_channels;
  }
  if (boundaries) boundaries->back() = x_;

  // Rows of the final activation: the requested outputs (already selected when the head is sliced).
  const int n_outputs = static_cast<int>(outputs_.size());
  const bool sliced = head_start_ < static_cast<int>(steps_.size());
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < n_outputs; ++i) {
      // Output o of an unflattened C x W activation is channel o / W, column o % W.
      const int row = sliced ? i : outputs_[i] / width;
      const int column = sliced ? 0 : outputs_[i] % width;
      out[static_cast<std::size_t>(b) * n_outputs + i] =
          x_[(static_cast<std::size_t>(row) * batch + b) * width + column];
    }
}

}  // namespace deepmr::model
