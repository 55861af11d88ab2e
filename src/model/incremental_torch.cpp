// The incremental network on LibTorch operators: the GPU path (incremental_network.hpp).
//
// It executes the plan of the kernels implementation (incremental_kernels.cpp) -- a row per
// (variant, window column), tap-stacked convolution products summed in tap order, Linear deltas
// column by column -- as tensor operations driven by index tables built once per region, so that a
// group costs a few dozen operator calls whatever its size. It agrees with the kernels
// implementation to float32 rounding; unlike it, it does not promise bitwise-identical results
// across group sizes (LibTorch's products choose their own reduction order).
//
// Several Monte Carlo samples per pass (set_samples): the region's references at the first dropout
// are repeated S times and run on as one batch of S x count references, reference s * count + r
// under sample s's masks; each group is planned again for S as a group of S x variants whose copy
// s reads reference s * count + r and the dropout masks of sample s (masks stacked as S * width
// rows, row s * width + column). The layers before the first dropout are the same in every sample:
// their reference activations and every group's variant rows there (the prefix) are computed once
// per region, and a pass starts from the prefix repeated S times.

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

#include "change_reach.hpp"
#include "deepmr/common/error.hpp"
#include "incremental_torch.hpp"
#include "torch_network.hpp"

namespace deepmr::model {
namespace {

using detail::Window;

at::Tensor floats(const std::vector<float>& values, std::vector<int64_t> shape, const at::Device& device) {
  return at::from_blob(const_cast<float*>(values.data()), shape, at::kFloat).clone().to(device);
}

at::Tensor longs(const std::vector<int64_t>& values, const at::Device& device) {
  if (values.empty()) return at::empty({0}, at::TensorOptions(at::kLong).device(device));
  return at::from_blob(const_cast<int64_t*>(values.data()), {static_cast<int64_t>(values.size())}, at::kLong)
      .clone()
      .to(device);
}

class IncrementalTorch final : public IncrementalNetwork {
 public:
  IncrementalTorch(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs, const Device& device,
                   const IncrementalOptions& options);
  void set_region(const float* references, int count, std::vector<VariantGroup> groups) override;
  void set_sample(const DropoutMasks* masks) override { set_samples({masks}); }
  int samples_per_pass() const override { return samples_per_pass_; }
  void set_samples(const std::vector<const DropoutMasks*>& masks) override;
  void reference_outputs(float* out) override;
  void evaluate(float* out) override;
  std::vector<StageCost> costs() const override { return costs_; }
  std::string description() const override {
    return device_.is_cuda() ? "cuda:" + std::to_string(device_.index()) + ", LibTorch operators, incremental"
                             : "cpu, LibTorch operators, incremental";
  }

 private:
  // Index tables of one layer of a group (see the step functions for their meaning).
  struct LayerPlan {
    std::vector<at::Tensor> taps;  // conv: per tap; pooling: per pooled column
    // Linear, all input columns in one batched product: columns first_column .. + column_count - 1
    // (of the group's windows), each with slots_per_column (variant, column) pairs, padded: slot
    // (k, m) differences state row pair_state_rows[k * M + m] with reference row
    // pair_reference_rows[...] (padding: any row; its product is never read). variant_slots: per
    // variant, the slots of its window's columns in increasing order (window_width of them; past
    // its window, the appended zero row), summed in that order.
    int64_t first_column = 0, column_count = 0, slots_per_column = 0, window_width = 0;
    at::Tensor pair_state_rows, pair_reference_rows, variant_slots;
    double macs = 0;
  };
  // A group planned for S samples: its variants replicated S times, sample-major (row v of sample s
  // is variant s * variants + v, reading reference s * count + reference[v]).
  struct Group {
    int variants = 0;  // per sample
    int samples = 1;
    std::vector<at::Tensor> reference_rows;  // [boundary]: per state row, reference * width + column
    std::vector<at::Tensor> columns;         // [boundary]: per state row, its column
    std::vector<at::Tensor> mask_rows;       // [dropout layer]: per state row, sample * width + column
    std::vector<LayerPlan> layers;
    at::Tensor prefix;       // S = 1 only: the variant rows at the first dropout
    at::Tensor output_rows;  // unsliced output: per (variant, output), row of cat(state, reference)
    double largest = 0;      // elements of the largest tensor of a pass from the first dropout on
  };

  Group plan(const VariantGroup& variants, int count, int samples);
  const std::vector<Group>& groups_for(int samples);
  at::Tensor select_features(const at::Tensor& t, int boundary) const;
  at::Tensor run_layer(int layer, const Group& group, at::Tensor state);
  at::Tensor apply_reference(int layer, const at::Tensor& x, int count) const;
  at::Tensor as_rows(const at::Tensor& x, int boundary, int count) const;

  at::Device device_;
  std::vector<detail::Boundary> shapes_;
  std::vector<int> channels_;
  std::vector<at::Tensor> channel_ids_;  // per boundary
  std::vector<std::vector<int>> channel_id_values_;
  int head_ = 0;
  bool sliced_ = false;
  int first_dropout_ = 0;
  std::vector<int> dropout_ordinal_;
  std::vector<at::Tensor> weight_, bias_;  // reference pass: conv (out x in x k), Linear (out x in), BN (scale, shift)
  std::vector<at::Tensor> tap_weights_;    // conv: in x (taps * out)
  std::vector<at::Tensor> column_weights_; // Linear: width x in x out
  std::vector<at::Tensor> bn_rows_scale_, bn_rows_shift_;  // batch norm: width x channels
  // dropout: the masks of the pass's samples (S x features), and (S * width) x channels
  std::vector<at::Tensor> mask_full_, mask_rows_;
  bool masked_ = false;
  IncrementalOptions options_;

  int count_ = 0;
  int samples_ = 1;            // of the current pass
  int samples_per_pass_ = 1;   // of the current region
  at::Tensor at_first_dropout_;  // the references' activation at the first dropout (count of them)
  // per boundary: (count * width) x channels before the first dropout, (S * count * width) x
  // channels from it on
  std::vector<at::Tensor> reference_;
  at::Tensor reference_out_;
  std::vector<VariantGroup> variants_;
  std::vector<Group> groups_;                     // S = 1, with the prefixes
  std::map<int, std::vector<Group>> wide_groups_;  // S > 1, planned when first used in the region
  std::vector<StageCost> costs_;
};

IncrementalTorch::IncrementalTorch(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs,
                                   const Device& device, const IncrementalOptions& options)
    : IncrementalNetwork(std::move(stack), std::move(outputs)),
      device_(device.kind == Device::Kind::cuda ? at::Device(at::kCUDA, device.index) : at::Device(at::kCPU)),
      options_(options) {
  if (options_.samples_per_pass < 0) throw InternalError("incremental network: samples per pass below 0");
  c10::InferenceMode guard;
  if (device_.is_cuda()) use_exact_cuda_numerics();
  const auto& layers = stack_->layers;
  const int n = static_cast<int>(layers.size());
  shapes_ = detail::boundaries(*stack_);
  // The head, as the networks slice it: from the last Linear on, when only elementwise layers follow.
  int last_linear = -1;
  for (int i = 0; i < n; ++i)
    if (layers[i].kind == LayerKind::linear) last_linear = i;
  sliced_ = last_linear >= 0;
  for (int i = last_linear + 1; sliced_ && i < n; ++i) {
    const auto kind = layers[i].kind;
    sliced_ = kind == LayerKind::relu || kind == LayerKind::threshold || kind == LayerKind::elu ||
              kind == LayerKind::sigmoid || kind == LayerKind::batch_norm || kind == LayerKind::dropout;
  }
  head_ = sliced_ ? last_linear : n;
  channels_.resize(n + 1);
  channel_ids_.resize(n + 1);
  channel_id_values_.resize(n + 1);
  for (int b = 0; b <= n; ++b) {
    auto& ids = channel_id_values_[b];
    if (b > head_) {
      ids = outputs_;
    } else {
      ids.resize(shapes_[b].channels);
      for (int c = 0; c < shapes_[b].channels; ++c) ids[c] = c;
    }
    channels_[b] = static_cast<int>(ids.size());
    channel_ids_[b] = longs(std::vector<int64_t>(ids.begin(), ids.end()), device_);
  }

  const auto dropouts = stack_->dropout_layers();
  first_dropout_ = dropouts.empty() ? n : dropouts.front();
  dropout_ordinal_.assign(n, -1);
  for (std::size_t k = 0; k < dropouts.size(); ++k) dropout_ordinal_[dropouts[k]] = static_cast<int>(k);

  weight_.resize(n);
  bias_.resize(n);
  tap_weights_.resize(n);
  column_weights_.resize(n);
  bn_rows_scale_.resize(n);
  bn_rows_shift_.resize(n);
  mask_full_.resize(n);
  mask_rows_.resize(n);
  costs_.resize(n);
  for (int l = 0; l < n; ++l) {
    const Layer& layer = layers[l];
    costs_[l].stage = layer.path + " " + kind_name(layer.kind) + (l < first_dropout_ ? " (once per region)" : "");
    const int64_t model_out = layer.out.channels;
    if (layer.kind == LayerKind::conv) {
      weight_[l] = floats(layer.weight, {model_out, layer.in.channels, layer.kernel}, device_);
      bias_[l] = floats(layer.bias, {model_out}, device_);
      // in x (taps * out): column t * out + o is weight[o][i][t]
      tap_weights_[l] = weight_[l].permute({1, 2, 0}).reshape({layer.in.channels, -1}).contiguous();
    } else if (layer.kind == LayerKind::linear) {
      weight_[l] = floats(layer.weight, {model_out, layer.in.channels}, device_).index_select(0, channel_ids_[l + 1]);
      bias_[l] = floats(layer.bias, {model_out}, device_).index_select(0, channel_ids_[l + 1]);
      const int64_t width = shapes_[l].width, in = shapes_[l].channels;
      column_weights_[l] = weight_[l].view({-1, in, width}).permute({2, 1, 0}).contiguous();
    } else if (layer.kind == LayerKind::batch_norm) {
      // Per channel before a flatten, per feature c * width + w after it: as width x channels.
      const int64_t width = shapes_[l].width;
      auto scale = floats(layer.weight, {static_cast<int64_t>(layer.weight.size())}, device_);
      auto shift = floats(layer.bias, {static_cast<int64_t>(layer.bias.size())}, device_);
      weight_[l] = select_features(scale, l);
      bias_[l] = select_features(shift, l);
      auto rows = [&](const at::Tensor& t) {
        return shapes_[l].flat ? t.view({-1, width}).index_select(0, channel_ids_[l]).t().contiguous()
                               : t.index_select(0, channel_ids_[l]).view({1, -1}).expand({width, -1}).contiguous();
      };
      bn_rows_scale_[l] = rows(scale);
      bn_rows_shift_[l] = rows(shift);
    }
  }
  costs_.push_back({"reference passes (per sample)", 0, 0});
}

// The reference pass, layer by layer, as TorchNetwork computes it (average pooling as the sum in
// column order divided by k, the order the variants' windows use).
at::Tensor IncrementalTorch::apply_reference(int l, const at::Tensor& x, int count) const {
  const Layer& layer = stack_->layers[l];
  const bool three_d = x.dim() == 3;
  switch (layer.kind) {
    case LayerKind::conv: {
      auto padded = at::constant_pad_nd(x, {layer.pad_left, layer.pad_right});
      return at::conv1d(padded, weight_[l], bias_[l], at::IntArrayRef{layer.stride}, at::IntArrayRef{0},
                        at::IntArrayRef{layer.dilation});
    }
    case LayerKind::max_pool: return at::max_pool1d(x, layer.kernel, layer.kernel);
    case LayerKind::avg_pool: {
      const int64_t k = layer.kernel, width = layer.out.width;
      auto blocks = x.narrow(2, 0, width * k).reshape({x.size(0), x.size(1), width, k});
      auto acc = blocks.select(3, 0);
      for (int64_t j = 1; j < k; ++j) acc = acc + blocks.select(3, j);
      return acc / static_cast<float>(k);
    }
    case LayerKind::relu: return at::relu(x);
    case LayerKind::threshold: return at::threshold(x, layer.threshold, layer.value);
    case LayerKind::elu: return at::elu(x, layer.alpha);
    case LayerKind::sigmoid: return at::sigmoid(x);
    case LayerKind::batch_norm:
      return three_d ? x * weight_[l].view({1, -1, 1}) + bias_[l].view({1, -1, 1})
                     : x * weight_[l].view({1, -1}) + bias_[l].view({1, -1});
    case LayerKind::dropout: {
      // Sample s's masks on its references s * count .. s * count + count - 1.
      if (!masked_) return x;
      const auto& mask = mask_full_[l];
      const int64_t samples = mask.size(0);
      if (three_d)
        return (x.reshape({samples, count / samples, layer.in.channels, layer.in.width}) *
                mask.view({samples, 1, layer.in.channels, layer.in.width}))
            .reshape({count, layer.in.channels, layer.in.width});
      auto features = shapes_[l].flat && shapes_[l].width == 1 ? mask.index_select(1, channel_ids_[l]) : mask;
      return (x.reshape({samples, count / samples, -1}) * features.view({samples, 1, -1})).reshape({count, -1});
    }
    case LayerKind::flatten: return x.reshape({count, -1});
    case LayerKind::linear: return at::linear(x, weight_[l], bias_[l]);
  }
  return x;
}

// Per-feature parameters of a flat activation: all features after a flatten (c * width + w), the
// computed channels after a Linear (width 1; in the head, the outputs).
at::Tensor IncrementalTorch::select_features(const at::Tensor& t, int b) const {
  if (!shapes_[b].flat || shapes_[b].width == 1) return t.index_select(0, channel_ids_[b]);
  return t;
}

// An activation of the reference pass as rows: (count * width) x channels.
at::Tensor IncrementalTorch::as_rows(const at::Tensor& x, int b, int count) const {
  return x.reshape({count, channels_[b], shapes_[b].width}).permute({0, 2, 1}).reshape({-1, channels_[b]}).contiguous();
}

// The index tables of a group for `samples` samples per pass: its variants replicated, variant
// s * variants.size() + v being variant v in sample s, with reference s * count + reference[v]. For
// S > 1 only the layers from the first dropout on are planned (the prefix is S = 1's, repeated).
IncrementalTorch::Group IncrementalTorch::plan(const VariantGroup& variants, int count, int samples) {
  const int n = static_cast<int>(stack_->layers.size());
  const int per_sample = variants.size();
  const int size = per_sample * samples;
  const int first_layer = samples == 1 ? 0 : first_dropout_;
  std::vector<std::vector<Window>> windows(n + 1, std::vector<Window>(size));
  std::vector<std::vector<int64_t>> rows(n + 1, std::vector<int64_t>(size + 1, 0));
  std::vector<int64_t> reference(size);
  for (int v = 0; v < per_sample; ++v) {
    if (variants.reference[v] < 0 || variants.reference[v] >= count)
      throw InternalError("variant group: reference index out of range");
    const auto reach = detail::reach(*stack_, variants.column[v]);
    if (reach.empty()) throw InternalError("variant group: a variant's column cannot reach the output");
    for (int s = 0; s < samples; ++s) {
      reference[s * per_sample + v] = static_cast<int64_t>(s) * count + variants.reference[v];
      for (int b = 0; b <= n; ++b) windows[b][s * per_sample + v] = reach[b];
    }
  }
  for (int b = 0; b <= n; ++b)
    for (int v = 0; v < size; ++v) rows[b][v + 1] = rows[b][v] + windows[b][v].count;

  Group group;
  group.variants = per_sample;
  group.samples = samples;
  group.mask_rows.resize(n);
  for (int b = 0; b <= n; ++b) {
    std::vector<int64_t> reference_rows, columns, mask_rows;
    if (b >= first_layer)
      for (int v = 0; v < size; ++v)
        for (int k = 0; k < windows[b][v].count; ++k) {
          reference_rows.push_back(reference[v] * shapes_[b].width + windows[b][v].start + k);
          columns.push_back(windows[b][v].start + k);
          mask_rows.push_back(static_cast<int64_t>(v / per_sample) * shapes_[b].width + windows[b][v].start + k);
        }
    group.reference_rows.push_back(longs(reference_rows, device_));
    group.columns.push_back(longs(columns, device_));
    if (b < n && dropout_ordinal_[b] >= 0) group.mask_rows[b] = samples == 1 ? group.columns[b] : longs(mask_rows, device_);
    if (b >= first_dropout_) group.largest = std::max(group.largest, static_cast<double>(rows[b][size]) * channels_[b]);
  }

  group.layers.resize(n);
  for (int l = first_layer; l < n; ++l) {
    const Layer& layer = stack_->layers[l];
    LayerPlan& p = group.layers[l];
    const auto& in = windows[l];
    const auto& out = windows[l + 1];
    if (layer.kind == LayerKind::conv) {
      // Per tap, the input row each output row reads, or rows_in (an appended zero row).
      for (int t = 0; t < layer.kernel; ++t) {
        std::vector<int64_t> index;
        for (int v = 0; v < size; ++v)
          for (int k = 0; k < out[v].count; ++k) {
            const int column = (out[v].start + k) * layer.stride + t * layer.dilation - layer.pad_left;
            index.push_back(in[v].contains(column) ? rows[l][v] + column - in[v].start : rows[l][size]);
          }
        p.taps.push_back(longs(index, device_));
      }
      p.macs = static_cast<double>(rows[l][size]) * channels_[l] * layer.kernel * channels_[l + 1];
      if (l >= first_dropout_)
        group.largest = std::max(group.largest, static_cast<double>(rows[l][size]) * layer.kernel * channels_[l + 1]);
    } else if (layer.kind == LayerKind::max_pool || layer.kind == LayerKind::avg_pool) {
      // Per pooled column j, a row of cat(state, reference rows): the variant's inside its window.
      for (int j = 0; j < layer.kernel; ++j) {
        std::vector<int64_t> index;
        for (int v = 0; v < size; ++v)
          for (int k = 0; k < out[v].count; ++k) {
            const int column = (out[v].start + k) * layer.kernel + j;
            index.push_back(in[v].contains(column)
                                ? rows[l][v] + column - in[v].start
                                : rows[l][size] + reference[v] * shapes_[l].width + column);
          }
        p.taps.push_back(longs(index, device_));
      }
      if (l >= first_dropout_)
        group.largest = std::max(group.largest, static_cast<double>(rows[l][size] + static_cast<int64_t>(count) * samples *
                                                                                         shapes_[l].width) * channels_[l]);
    } else if (layer.kind == LayerKind::linear) {
      int first = shapes_[l].width, last = -1, widest = 0;
      for (int v = 0; v < size; ++v) {
        first = std::min(first, in[v].start);
        last = std::max(last, in[v].end() - 1);
        widest = std::max(widest, in[v].count);
      }
      const int columns = last - first + 1;
      std::vector<std::vector<int>> members(columns);  // per column, its variants in order
      for (int v = 0; v < size; ++v)
        for (int k = 0; k < in[v].count; ++k) members[in[v].start + k - first].push_back(v);
      std::size_t slots = 1;
      for (const auto& column : members) slots = std::max(slots, column.size());
      std::vector<int64_t> state_rows(columns * slots, 0), reference_rows(columns * slots, 0);
      std::vector<int64_t> variant_slots(static_cast<std::size_t>(size) * widest, static_cast<int64_t>(columns * slots));
      for (int c = 0; c < columns; ++c)
        for (std::size_t m = 0; m < members[c].size(); ++m) {
          const int v = members[c][m], w = first + c;
          const std::size_t slot = c * slots + m;
          state_rows[slot] = rows[l][v] + w - in[v].start;
          reference_rows[slot] = reference[v] * shapes_[l].width + w;
          variant_slots[static_cast<std::size_t>(v) * widest + (w - in[v].start)] = static_cast<int64_t>(slot);
          p.macs += static_cast<double>(channels_[l]) * channels_[l + 1];
        }
      p.first_column = first;
      p.column_count = columns;
      p.slots_per_column = static_cast<int64_t>(slots);
      p.window_width = widest;
      p.pair_state_rows = longs(state_rows, device_);
      p.pair_reference_rows = longs(reference_rows, device_);
      p.variant_slots = longs(variant_slots, device_);
      if (l >= first_dropout_)
        group.largest = std::max(group.largest, static_cast<double>(std::max<std::size_t>(columns * slots, static_cast<std::size_t>(size) * widest)) *
                                                    std::max(channels_[l], channels_[l + 1]));
    }
  }

  if (!sliced_) {
    // Output o is model channel o / width at column o % width: the variant's row, or the reference's.
    const int width = shapes_[n].width;
    std::vector<int64_t> index;
    for (int v = 0; v < size; ++v)
      for (int o : outputs_) {
        const int channel = o / width, column = o % width;
        const int64_t row = windows[n][v].contains(column)
                                ? rows[n][v] + column - windows[n][v].start
                                : rows[n][size] + reference[v] * width + column;
        index.push_back(row * channels_[n] + channel);
      }
    group.output_rows = longs(index, device_);
  }

  if (samples == 1) {
    // Boundary 0: the variants' new input columns; then the layers before the first dropout.
    auto state = floats(variants.values, {size, channels_[0]}, device_);
    for (int l = 0; l < first_dropout_; ++l) state = run_layer(l, group, state);
    group.prefix = state;
  }
  return group;
}

const std::vector<IncrementalTorch::Group>& IncrementalTorch::groups_for(int samples) {
  if (samples == 1) return groups_;
  auto& planned = wide_groups_[samples];
  if (planned.size() != variants_.size()) {
    planned.clear();
    for (const auto& variants : variants_) planned.push_back(plan(variants, count_, samples));
  }
  return planned;
}

void IncrementalTorch::set_region(const float* references, int count, std::vector<VariantGroup> groups) {
  c10::InferenceMode guard;
  const auto start = std::chrono::steady_clock::now();
  count_ = count;
  const auto& first = shapes_.front();
  // The reference passes up to the first dropout: the same in every sample.
  auto x = at::from_blob(const_cast<float*>(references), {count, first.channels, first.width}, at::kFloat)
               .clone()
               .to(device_);
  const int n = static_cast<int>(stack_->layers.size());
  reference_.assign(n + 1, at::Tensor());
  for (int l = 0; l < first_dropout_; ++l) {
    reference_[l] = as_rows(x, l, count_);
    x = apply_reference(l, x, count_);
  }
  at_first_dropout_ = x;
  costs_.back().seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  set_samples({nullptr});
  groups_.clear();
  wide_groups_.clear();
  variants_ = std::move(groups);
  for (const auto& variants : variants_) {
    if (static_cast<int>(variants.values.size()) != variants.size() * channels_[0] ||
        static_cast<int>(variants.reference.size()) != variants.size())
      throw InternalError("variant group: reference, column and values sizes disagree");
    groups_.push_back(plan(variants, count, 1));
  }
  // Samples per pass: as asked, or on CUDA as many as keep a pass's largest tensor in the budget.
  samples_per_pass_ = options_.samples_per_pass;
  if (samples_per_pass_ == 0) {
    samples_per_pass_ = 1;
    if (device_.is_cuda()) {
      double largest = 1;
      for (const Group& group : groups_) largest = std::max(largest, group.largest);
      const double fit = options_.pass_megabytes * 1024 * 1024 / (sizeof(float) * largest);
      samples_per_pass_ = static_cast<int>(std::clamp(std::floor(fit), 1.0, 64.0));
    }
  }
}

void IncrementalTorch::set_samples(const std::vector<const DropoutMasks*>& masks) {
  c10::InferenceMode guard;
  const auto start = std::chrono::steady_clock::now();
  const int samples = static_cast<int>(masks.size());
  if (samples < 1 || samples > std::max(1, samples_per_pass_))
    throw InternalError("incremental network: " + std::to_string(samples) + " samples in one pass, at most " +
                        std::to_string(samples_per_pass_));
  if (!at_first_dropout_.defined()) throw InternalError("incremental network: a sample before the region");
  const int n = static_cast<int>(stack_->layers.size());
  masked_ = masks.front() != nullptr;
  for (const auto* mask : masks)
    if ((mask != nullptr) != masked_) throw InternalError("incremental network: masks for some samples of a pass only");
  samples_ = samples;
  for (int l = 0; l < n && masked_; ++l) {
    if (dropout_ordinal_[l] < 0) continue;
    // Sample s's mask in row s: S x features; as rows (sample s, column w) -> s * width + w.
    const int64_t features = static_cast<int64_t>(masks.front()->layers.at(dropout_ordinal_[l]).size());
    std::vector<float> stacked;
    stacked.reserve(static_cast<std::size_t>(features) * samples);
    for (const auto* sample : masks) {
      const auto& mask = sample->layers.at(dropout_ordinal_[l]);
      if (static_cast<int64_t>(mask.size()) != features) throw InternalError("incremental network: masks of different sizes");
      stacked.insert(stacked.end(), mask.begin(), mask.end());
    }
    const int64_t width = shapes_[l].width;
    mask_full_[l] = floats(stacked, {samples, features}, device_);
    mask_rows_[l] = mask_full_[l]
                        .view({samples, -1, width})
                        .index_select(1, channel_ids_[l])
                        .permute({0, 2, 1})
                        .reshape({samples * width, channels_[l]})
                        .contiguous();
  }
  // From the first dropout on: the S x count references as one batch, reference s * count + r.
  const int references = samples * count_;
  auto x = samples == 1 ? at_first_dropout_
                        : at_first_dropout_.repeat(at_first_dropout_.dim() == 3 ? std::vector<int64_t>{samples, 1, 1}
                                                                                 : std::vector<int64_t>{samples, 1});
  for (int l = first_dropout_; l < n; ++l) {
    reference_[l] = as_rows(x, l, references);
    x = apply_reference(l, x, references);
  }
  reference_[n] = as_rows(x, n, references);
  x = x.reshape({references, -1});
  if (!sliced_) x = x.index_select(1, longs(std::vector<int64_t>(outputs_.begin(), outputs_.end()), device_));
  reference_out_ = x.to(at::kCPU).contiguous();
  costs_.back().seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  costs_.back().macs += references * stack_->forward_macs();
}

void IncrementalTorch::reference_outputs(float* out) {
  std::memcpy(out, reference_out_.data_ptr<float>(), sizeof(float) * reference_out_.numel());
}

at::Tensor IncrementalTorch::run_layer(int l, const Group& group, at::Tensor state) {
  const Layer& layer = stack_->layers[l];
  const LayerPlan& p = group.layers[l];
  const auto start = std::chrono::steady_clock::now();
  switch (layer.kind) {
    case LayerKind::conv: {
      // deltas x (in x taps * out), then per output row the taps' products in tap order
      const int64_t out = channels_[l + 1];
      auto delta = state - reference_[l].index_select(0, group.reference_rows[l]);
      auto products = at::mm(delta, tap_weights_[l]);
      products = at::cat({products, at::zeros({1, products.size(1)}, products.options())}, 0);
      auto sum = at::zeros({p.taps.front().size(0), out}, products.options());
      for (int t = 0; t < layer.kernel; ++t) sum = sum + products.narrow(1, t * out, out).index_select(0, p.taps[t]);
      state = reference_[l + 1].index_select(0, group.reference_rows[l + 1]) + sum;
      break;
    }
    case LayerKind::max_pool:
    case LayerKind::avg_pool: {
      auto rows = at::cat({state, reference_[l]}, 0);
      auto acc = rows.index_select(0, p.taps[0]);
      for (int j = 1; j < layer.kernel; ++j) {
        auto x = rows.index_select(0, p.taps[j]);
        acc = layer.kind == LayerKind::max_pool ? at::maximum(acc, x) : acc + x;
      }
      state = layer.kind == LayerKind::max_pool ? acc : acc / static_cast<float>(layer.kernel);
      break;
    }
    case LayerKind::linear: {
      // Every (variant, column) difference times its column's weights in one batched product
      // (a few operator launches whatever the width: on a GPU, launches rather than arithmetic
      // bound a per-column loop); then each variant sums its columns' products in column order.
      const int64_t in = channels_[l], out = channels_[l + 1], columns = p.column_count, slots = p.slots_per_column;
      auto delta = state.index_select(0, p.pair_state_rows) - reference_[l].index_select(0, p.pair_reference_rows);
      auto products = at::bmm(delta.view({columns, slots, in}), column_weights_[l].narrow(0, p.first_column, columns));
      products = at::cat({products.view({columns * slots, out}), at::zeros({1, out}, products.options())}, 0);
      auto sums = products.index_select(0, p.variant_slots).view({static_cast<int64_t>(group.variants) * group.samples, p.window_width, out}).sum(1);
      state = reference_[l + 1].index_select(0, group.reference_rows[l + 1]) + sums;
      break;
    }
    case LayerKind::flatten: break;
    case LayerKind::relu: state = at::relu(state); break;
    case LayerKind::threshold: state = at::threshold(state, layer.threshold, layer.value); break;
    case LayerKind::elu: state = at::elu(state, layer.alpha); break;
    case LayerKind::sigmoid: state = at::sigmoid(state); break;
    case LayerKind::batch_norm:
      state = state * bn_rows_scale_[l].index_select(0, group.columns[l]) +
              bn_rows_shift_[l].index_select(0, group.columns[l]);
      break;
    case LayerKind::dropout:
      if (masked_) state = state * mask_rows_[l].index_select(0, group.mask_rows[l]);
      break;
  }
  costs_[l].seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  costs_[l].macs += p.macs;
  return state;
}

void IncrementalTorch::evaluate(float* out) {
  c10::InferenceMode guard;
  const int n = static_cast<int>(stack_->layers.size());
  const auto& groups = groups_for(samples_);
  const std::size_t width = outputs_.size();
  std::size_t variants = 0;
  for (const Group& group : groups) variants += group.variants;
  std::size_t offset = 0;  // of the group's first variant, within a sample
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const Group& group = groups[g];
    const auto& prefix = groups_[g].prefix;
    auto state = samples_ == 1 ? prefix : prefix.repeat({samples_, 1});
    for (int l = first_dropout_; l < n; ++l) state = run_layer(l, group, state);
    if (!sliced_) state = at::cat({state, reference_[n]}, 0).reshape({-1}).index_select(0, group.output_rows);
    auto host = state.reshape({-1}).to(at::kCPU).contiguous();
    const float* values = host.data_ptr<float>();
    const std::size_t block = static_cast<std::size_t>(group.variants) * width;
    for (int s = 0; s < samples_; ++s)
      std::memcpy(out + (s * variants + offset) * width, values + s * block, sizeof(float) * block);
    offset += group.variants;
  }
}

}  // namespace

std::unique_ptr<IncrementalNetwork> make_incremental_torch(std::shared_ptr<const LayerStack> stack,
                                                           std::vector<int> outputs, const Device& device,
                                                           const IncrementalOptions& options) {
  return std::make_unique<IncrementalTorch>(std::move(stack), std::move(outputs), device, options);
}

}  // namespace deepmr::model
