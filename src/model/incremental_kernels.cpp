// The incremental network on deepmr's CPU kernels (incremental_network.hpp).
//
// A group's activation at a boundary is one row per (variant, window column) holding all channels
// ("rows"), so that the linear layers are products with the weights on the right:
//   convolution: (rows x in) deltas times the tap-stacked weights (in x taps * out), then each
//                output column sums its taps' products in tap order;
//   Linear:      for each input column w, the deltas of the variants that changed it (restricted
//                to the channels the sample's dropout kept) times that column's weights, summed
//                over w in increasing order.
// Every element is thus a fixed chain of roundings that does not depend on which variants share a
// group, on the thread count or on the ISA (gemm.hpp): results are bitwise reproducible.
// Groups run in parallel, one per thread, each on that thread alone: no barrier inside a group.

#include "incremental_kernels.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <chrono>
#include <cstring>

#include "deepmr/common/error.hpp"
#include "pointwise.hpp"

namespace deepmr::model {
namespace {

using detail::Window;

class Stopwatch {
 public:
  explicit Stopwatch(StageCost& cost) : cost_(cost), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() { cost_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  Stopwatch(const Stopwatch&) = delete;
  Stopwatch& operator=(const Stopwatch&) = delete;

 private:
  StageCost& cost_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

IncrementalKernels::IncrementalKernels(KernelNetwork& network, const IncrementalOptions& options)
    : IncrementalNetwork(network.shared_stack(), network.outputs()),
      network_(network),
      isa_(active_isa()),
      sparse_row_cost_(options.sparse_row_cost) {
  const auto& layers = stack_->layers;
  const int n = static_cast<int>(layers.size());
  shapes_ = detail::boundaries(*stack_);
  channels_.resize(n + 1);
  channel_ids_.resize(n + 1);
  const int head = network_.head_start();
  for (int b = 0; b <= n; ++b) {
    if (b > head) {
      channel_ids_[b] = outputs_;
    } else {
      channel_ids_[b].resize(shapes_[b].channels);
      for (int c = 0; c < shapes_[b].channels; ++c) channel_ids_[b][c] = c;
    }
    channels_[b] = static_cast<int>(channel_ids_[b].size());
  }

  const auto dropouts = stack_->dropout_layers();
  first_dropout_ = dropouts.empty() ? n : dropouts.front();
  dropout_ordinal_.assign(n, -1);
  for (std::size_t k = 0; k < dropouts.size(); ++k) dropout_ordinal_[dropouts[k]] = static_cast<int>(k);

  conv_weights_.resize(n);
  linear_weights_.resize(n);
  kept_.resize(n);
  packing_.assign(n, LinearPacking::none);
  masked_by_.assign(n, -1);
  skip_zero_rows_.assign(n, 0);
  row_masks_.resize(n);
  stage_costs_.resize(n);
  for (int l = 0; l < n; ++l) {
    const Layer& layer = layers[l];
    stage_costs_[l].stage = layer.path + " " + kind_name(layer.kind) + (l < first_dropout_ ? " (once per region)" : "");
    if (layer.kind == LayerKind::conv || layer.kind == LayerKind::linear)
      skip_zero_rows_[l] = options.skip_zero_deltas &&
                           std::all_of(layer.weight.begin(), layer.weight.end(), [](float w) { return std::isfinite(w); });
    if (layer.kind == LayerKind::conv) {
      // Column t * out + o of row i is weight[o][i][t]: one product gives every tap's contribution.
      const int in = channels_[l], out = channels_[l + 1], taps = layer.kernel;
      conv_weights_[l] = PackedColumns(in, taps * out, isa_);
      for (int o = 0; o < out; ++o)
        for (int i = 0; i < in; ++i)
          for (int t = 0; t < taps; ++t)
            conv_weights_[l].set(i, t * out + o, layer.weight[(static_cast<std::size_t>(o) * in + i) * taps + t]);
    } else if (layer.kind == LayerKind::linear) {
      // A dropout right before (a flatten between does not matter) zeroes the same input rows of
      // the reference and of every variant: their deltas are zero and the products can skip them.
      int before = l - 1;
      while (before >= 0 && layers[before].kind == LayerKind::flatten) --before;
      if (before >= 0 && layers[before].kind == LayerKind::dropout) masked_by_[l] = before;
    }
  }
  reference_stage_ = static_cast<int>(stage_costs_.size());
  stage_costs_.push_back({"reference passes (per sample)", 0, 0});
  packing_stage_ = static_cast<int>(stage_costs_.size());
  stage_costs_.push_back({"dropout-compacted Linear weights (per sample)", 0, 0});
}

std::vector<IncrementalKernels::Workspace>& IncrementalKernels::workspaces() {
  const std::size_t threads = static_cast<std::size_t>(compute_threads());
  if (workspaces_.size() < threads) {
    workspaces_.resize(threads);
    for (auto& work : workspaces_) work.costs.resize(stack_->layers.size());
  }
  return workspaces_;
}

std::vector<StageCost> IncrementalKernels::costs() const {
  auto out = stage_costs_;
  for (const auto& work : workspaces_)
    for (std::size_t l = 0; l < work.costs.size(); ++l) {
      const StageCost& part = work.costs[l];
      StageCost& total = out[l];
      total.seconds += part.seconds;
      total.macs += part.macs;
      total.delta_entries += part.delta_entries;
      total.zero_entries += part.zero_entries;
      total.delta_rows += part.delta_rows;
      total.zero_rows += part.zero_rows;
      total.skipped_macs += part.skipped_macs;
    }
  return out;
}

std::string IncrementalKernels::description() const {
  return "cpu, deepmr kernels (" + isa_name(isa_) + "), incremental";
}

void IncrementalKernels::reference_pass(const DropoutMasks* masks) {
  Stopwatch watch(stage_costs_[reference_stage_]);
  stage_costs_[reference_stage_].macs += reference_count_ * stack_->forward_macs();
  reference_out_.resize(static_cast<std::size_t>(reference_count_) * outputs_.size());
  network_.forward_keeping(reference_inputs_.data(), reference_count_, masks, reference_out_.data(), trace_);
  // KernelNetwork keeps x[c][example][w], or x[c * width + w][example] after a flatten.
  const int count = reference_count_;
  reference_.resize(shapes_.size());
  for (std::size_t b = 0; b < shapes_.size(); ++b) {
    const int channels = channels_[b], width = shapes_[b].width;
    const bool flat = shapes_[b].flat;
    const auto& x = trace_[b];
    auto& r = reference_[b];
    r.resize(static_cast<std::size_t>(count) * width * channels);
    for (int e = 0; e < count; ++e)
      for (int w = 0; w < width; ++w)
        for (int c = 0; c < channels; ++c)
          r[(static_cast<std::size_t>(e) * width + w) * channels + c] =
              flat ? x[(static_cast<std::size_t>(c) * width + w) * count + e]
                   : x[(static_cast<std::size_t>(c) * count + e) * width + w];
  }
}

void IncrementalKernels::set_region(const float* references, int count, std::vector<VariantGroup> groups) {
  const int n = static_cast<int>(stack_->layers.size());
  const int in_channels = shapes_.front().channels;
  reference_count_ = count;
  reference_inputs_.assign(references, references + static_cast<std::size_t>(count) * in_channels * shapes_.front().width);
  reference_pass(nullptr);  // boundaries up to the first dropout are the same in every sample
  for (int l = 0; l < first_dropout_; ++l)
    if (stack_->layers[l].kind == LayerKind::linear && packing_[l] != LinearPacking::all_inputs) pack_linear(l, nullptr);

  groups_.clear();
  groups_.reserve(groups.size());
  variants_ = 0;
  for (auto& variants : groups) {
    Group group;
    const int size = variants.size();
    if (static_cast<int>(variants.reference.size()) != size ||
        static_cast<int>(variants.values.size()) != size * in_channels)
      throw InternalError("variant group: reference, column and values sizes disagree");
    group.windows.assign(n + 1, std::vector<Window>(size));
    group.rows.assign(n + 1, std::vector<int>(size + 1, 0));
    for (int v = 0; v < size; ++v) {
      if (variants.reference[v] < 0 || variants.reference[v] >= count)
        throw InternalError("variant group: reference index out of range");
      const auto reach = detail::reach(*stack_, variants.column[v]);
      if (reach.empty()) throw InternalError("variant group: a variant's column cannot reach the output");
      for (int b = 0; b <= n; ++b) group.windows[b][v] = reach[b];
    }
    for (int b = 0; b <= n; ++b)
      for (int v = 0; v < size; ++v) group.rows[b][v + 1] = group.rows[b][v] + group.windows[b][v].count;
    group.variants = std::move(variants);
    group.first_output = variants_;
    variants_ += size;
    groups_.push_back(std::move(group));
  }
  // Boundary 0 holds each variant's new input column; the layers before the first dropout follow.
  auto& works = workspaces();
  const int group_count = static_cast<int>(groups_.size());
#pragma omp parallel for num_threads(compute_threads()) schedule(dynamic, 1)
  for (int g = 0; g < group_count; ++g) {
    Workspace& work = works[omp_get_thread_num()];
    Group& group = groups_[g];
    work.state = group.variants.values;
    run_group(group, 0, first_dropout_, work);
    group.prefix = work.state;
  }
}

void IncrementalKernels::set_sample(const DropoutMasks* masks) {
  const auto& layers = stack_->layers;
  const int n = static_cast<int>(layers.size());
  masked_ = masks != nullptr;
  if (masks) masks_ = *masks;
  {
    Stopwatch watch(stage_costs_[packing_stage_]);
    for (int l = 0; l < n; ++l) {
      if (dropout_ordinal_[l] >= 0 && masked_) {
        // The mask in row order: [column][computed channel].
        const auto& mask = masks_.layers.at(dropout_ordinal_[l]);
        const int channels = channels_[l], width = shapes_[l].width;
        auto& rows = row_masks_[l];
        rows.resize(static_cast<std::size_t>(width) * channels);
        for (int w = 0; w < width; ++w)
          for (int c = 0; c < channels; ++c)
            rows[static_cast<std::size_t>(w) * channels + c] =
                mask[static_cast<std::size_t>(channel_ids_[l][c]) * width + w];
      }
      if (layers[l].kind != LayerKind::linear) continue;
      const bool compact = masked_ && masked_by_[l] >= 0;
      if (compact) pack_linear(l, &masks_.layers.at(dropout_ordinal_[masked_by_[l]]));
      else if (packing_[l] != LinearPacking::all_inputs) pack_linear(l, nullptr);
    }
  }
  reference_pass(masks);
}

// Per input column w of a Linear: the weights of the input channels that count (all, or those the
// dropout before it kept in this sample), packed as (kept channels x outputs).
void IncrementalKernels::pack_linear(int l, const std::vector<float>* mask) {
  const Layer& layer = stack_->layers[l];
  const int channels = channels_[l], width = shapes_[l].width, out = channels_[l + 1];
  const std::size_t features = static_cast<std::size_t>(channels) * width;
  auto& kept = kept_[l];
  kept.assign(width, {});
  // rank[c * width + w]: the row of channel c in column w's weights. Dropped channels go to a
  // spare last row that no product reads, so that the copy below has no unpredictable branch.
  std::vector<int> rank(features);
  for (int w = 0; w < width; ++w)
    for (int c = 0; c < channels; ++c) {
      const std::size_t feature = static_cast<std::size_t>(c) * width + w;
      if (mask && (*mask)[feature] == 0.0f) continue;
      rank[feature] = static_cast<int>(kept[w].size());
      kept[w].push_back(c);
    }
  for (int w = 0; w < width; ++w)
    for (int c = 0; c < channels; ++c) {
      const std::size_t feature = static_cast<std::size_t>(c) * width + w;
      if (mask && (*mask)[feature] == 0.0f) rank[feature] = static_cast<int>(kept[w].size());
    }
  auto& weights = linear_weights_[l];
  if (weights.empty())
    for (int w = 0; w < width; ++w) weights.emplace_back(0, out, isa_);
  for (int w = 0; w < width; ++w) weights[w].reset_rows(static_cast<int>(kept[w].size()) + 1);
  // Read the weight rows contiguously, one panel of outputs at a time, and scatter into the
  // column matrices (offsets precomputed: this runs once per sample over all of fc1's weights).
  const int nr = weights.front().panel_width();
  const int panels = (out + nr - 1) / nr;
  for (auto& r : rank) r *= nr;
  const int threads = compute_threads();
#pragma omp parallel num_threads(threads)
  {
    std::vector<float*> base(width);
#pragma omp for schedule(dynamic, 1)
    for (int p = 0; p < panels; ++p) {
      for (int w = 0; w < width; ++w) base[w] = weights[w].panel_row(p, 0);
      for (int c = 0; c < channels; ++c) {
        const int* offsets = rank.data() + static_cast<std::size_t>(c) * width;
        for (int lane = 0; lane < nr && p * nr + lane < out; ++lane) {
          const float* row = layer.weight.data() +
                             static_cast<std::size_t>(channel_ids_[l + 1][p * nr + lane]) * features +
                             static_cast<std::size_t>(c) * width;
          for (int w = 0; w < width; ++w) base[w][offsets[w] + lane] = row[w];
        }
      }
    }
  }
  packing_[l] = mask ? LinearPacking::kept_inputs : LinearPacking::all_inputs;
}

void IncrementalKernels::reference_outputs(float* out) {
  std::copy(reference_out_.begin(), reference_out_.end(), out);
}

void IncrementalKernels::evaluate(float* out) {
  const int n = static_cast<int>(stack_->layers.size());
  const int n_outputs = static_cast<int>(outputs_.size());
  const int channels = channels_[n], width = shapes_[n].width;
  const bool sliced = network_.head_start() < n;
  auto& works = workspaces();
  const int group_count = static_cast<int>(groups_.size());
#pragma omp parallel for num_threads(compute_threads()) schedule(dynamic, 1)
  for (int g = 0; g < group_count; ++g) {
    Workspace& work = works[omp_get_thread_num()];
    const Group& group = groups_[g];
    work.state = group.prefix;
    run_group(group, first_dropout_, n, work);
    // Output o of the final activation: the computed channel o when the head is sliced, else model
    // channel o / width at column o % width (the reference's where the variant did not reach).
    for (int v = 0; v < group.variants.size(); ++v)
      for (int i = 0; i < n_outputs; ++i) {
        const int channel = sliced ? i : outputs_[i] / width, column = sliced ? 0 : outputs_[i] % width;
        const Window& window = group.windows[n][v];
        out[(group.first_output + v) * n_outputs + i] =
            window.contains(column)
                ? work.state[static_cast<std::size_t>(group.rows[n][v] + column - window.start) * channels + channel]
                : reference_row(n, group.variants.reference[v], column)[channel];
      }
  }
}

void IncrementalKernels::run_group(const Group& group, int first_layer, int last_layer, Workspace& work) const {
  for (int l = first_layer; l < last_layer; ++l) {
    Stopwatch watch(work.costs[l]);
    switch (stack_->layers[l].kind) {
      case LayerKind::conv: convolution(l, group, work); break;
      case LayerKind::linear: linear(l, group, work); break;
      case LayerKind::max_pool:
      case LayerKind::avg_pool: pooling(l, group, work); break;
      case LayerKind::flatten: break;  // rows keep (channel, column); features are c * width + w
      default: pointwise(l, group, work); break;
    }
  }
}

void IncrementalKernels::convolution(int l, const Group& group, Workspace& work) const {
  const Layer& layer = stack_->layers[l];
  const int in = channels_[l], out = channels_[l + 1], taps = layer.kernel;
  const int variants = group.variants.size();
  const auto& windows_in = group.windows[l];
  const auto& windows_out = group.windows[l + 1];
  const auto& rows_in = group.rows[l];
  const auto& rows_out = group.rows[l + 1];

  // x_new - x_ref on the variant's window, one row per column, sorted by classify_row: a row that
  // is zero in every channel (the change did not get through an activation or a pooling there)
  // adds +0 to every sum below, which changes no bit, and is left out; a row with few nonzeros is
  // multiplied as a sparse row (the same bits); the others form the dense product.
  const int rows = rows_in[variants];
  work.delta.resize(static_cast<std::size_t>(rows) * in);
  work.product_row.resize(rows);
  work.start_sparse_rows();
  StageCost& cost = work.costs[l];
  int dense = 0, zero_rows = 0;
  for (int v = 0; v < variants; ++v)
    for (int k = 0; k < windows_in[v].count; ++k) {
      const float* x = work.state.data() + static_cast<std::size_t>(rows_in[v] + k) * in;
      const float* reference = reference_row(l, group.variants.reference[v], windows_in[v].start + k);
      float* d = work.delta.data() + static_cast<std::size_t>(dense) * in;
      for (int c = 0; c < in; ++c) d[c] = x[c] - reference[c];
      // Product rows: dense rows first (in order), then sparse rows (numbered once dense is known).
      const int row = rows_in[v] + k;
      switch (classify_row(l, d, in, work, cost)) {
        case RowKind::zero: work.product_row[row] = -1, ++zero_rows; break;
        case RowKind::sparse: work.sparse_members.push_back(row); break;
        case RowKind::dense: work.product_row[row] = dense++; break;
      }
    }
  for (std::size_t i = 0; i < work.sparse_members.size(); ++i)
    work.product_row[work.sparse_members[i]] = dense + static_cast<int>(i);

  // Every tap's contribution of every changed column: (rows x in) x (in x taps * out).
  const int wide = taps * out;
  multiply_differences(dense, in, conv_weights_[l], wide, work, cost);
  cost.skipped_macs += static_cast<double>(zero_rows) * in * wide;

  // Output column o sums, in tap order, the taps that read a changed column; then reference + sum.
  work.next.resize(static_cast<std::size_t>(rows_out[variants]) * out);
  for (int v = 0; v < variants; ++v)
    for (int k = 0; k < windows_out[v].count; ++k) {
      const int o = windows_out[v].start + k;
      float* sum = work.next.data() + static_cast<std::size_t>(rows_out[v] + k) * out;
      std::fill(sum, sum + out, 0.0f);
      for (int t = 0; t < taps; ++t) {
        const int column = o * layer.stride + t * layer.dilation - layer.pad_left;
        if (!windows_in[v].contains(column)) continue;
        const int row = work.product_row[rows_in[v] + column - windows_in[v].start];
        if (row < 0) continue;  // a zero row: +0
        const float* p = work.products.data() + static_cast<std::size_t>(row) * wide + static_cast<std::size_t>(t) * out;
        for (int c = 0; c < out; ++c) sum[c] += p[c];
      }
      const float* reference = reference_row(l + 1, group.variants.reference[v], o);
      for (int c = 0; c < out; ++c) sum[c] = reference[c] + sum[c];
    }
  work.state.swap(work.next);
}

void IncrementalKernels::pooling(int l, const Group& group, Workspace& work) const {
  const Layer& layer = stack_->layers[l];
  const int channels = channels_[l], k = layer.kernel, variants = group.variants.size();
  const bool is_max = layer.kind == LayerKind::max_pool;
  const auto& windows_in = group.windows[l];
  const auto& windows_out = group.windows[l + 1];
  const auto& rows_in = group.rows[l];
  const auto& rows_out = group.rows[l + 1];
  work.next.resize(static_cast<std::size_t>(rows_out[variants]) * channels);
  // The same operations as the full pass, on the variant's values inside its window and the
  // reference's outside.
  for (int v = 0; v < variants; ++v)
    for (int q = 0; q < windows_out[v].count; ++q) {
      const int o = windows_out[v].start + q;
      float* acc = work.next.data() + static_cast<std::size_t>(rows_out[v] + q) * channels;
      for (int j = 0; j < k; ++j) {
        const int column = o * k + j;
        const float* x =
            windows_in[v].contains(column)
                ? work.state.data() + static_cast<std::size_t>(rows_in[v] + column - windows_in[v].start) * channels
                : reference_row(l, group.variants.reference[v], column);
        if (j == 0) std::copy(x, x + channels, acc);
        else if (is_max)
          for (int c = 0; c < channels; ++c) acc[c] = detail::nan_max(acc[c], x[c]);
        else
          for (int c = 0; c < channels; ++c) acc[c] = acc[c] + x[c];
      }
      if (!is_max)
        for (int c = 0; c < channels; ++c) acc[c] = acc[c] / static_cast<float>(k);
    }
  work.state.swap(work.next);
}

void IncrementalKernels::pointwise(int l, const Group& group, Workspace& work) const {
  const Layer& layer = stack_->layers[l];
  const int channels = channels_[l], width = shapes_[l].width, variants = group.variants.size();
  const auto& windows = group.windows[l];
  const auto& rows = group.rows[l];
  switch (layer.kind) {
    case LayerKind::dropout: {
      if (!masked_) return;
      const auto& mask = row_masks_[l];
      for (int v = 0; v < variants; ++v)
        for (int k = 0; k < windows[v].count; ++k) {
          float* x = work.state.data() + static_cast<std::size_t>(rows[v] + k) * channels;
          const float* m = mask.data() + static_cast<std::size_t>(windows[v].start + k) * channels;
          for (int c = 0; c < channels; ++c) x[c] *= m[c];
        }
      return;
    }
    case LayerKind::batch_norm: {
      // Per channel before a flatten, per feature (c * width + w) after it.
      const bool flat = shapes_[l].flat;
      const auto& ids = channel_ids_[l];
      for (int v = 0; v < variants; ++v)
        for (int k = 0; k < windows[v].count; ++k) {
          float* x = work.state.data() + static_cast<std::size_t>(rows[v] + k) * channels;
          const int column = windows[v].start + k;
          for (int c = 0; c < channels; ++c) {
            const std::size_t index = flat ? static_cast<std::size_t>(ids[c]) * width + column : ids[c];
            x[c] = x[c] * layer.weight[index] + layer.bias[index];
          }
        }
      return;
    }
    default:
      detail::activate(layer, work.state.data(), static_cast<std::size_t>(rows[variants]) * channels);
      return;
  }
}

void IncrementalKernels::linear(int l, const Group& group, Workspace& work) const {
  const int channels = channels_[l], out = channels_[l + 1], variants = group.variants.size();
  const auto& windows = group.windows[l];
  const auto& rows = group.rows[l];
  int first = shapes_[l].width, last = -1;
  for (int v = 0; v < variants; ++v) {
    first = std::min(first, windows[v].start);
    last = std::max(last, windows[v].end() - 1);
  }
  work.sums.assign(static_cast<std::size_t>(variants) * out, 0.0f);
  // PyTorch multiplies a dropped feature by 0, which turns an infinity or a NaN into NaN: a variant
  // with such a value among its dropped features gets NaN outputs, as in the full pass.
  std::vector<std::uint8_t> poisoned(variants, 0);
  auto& members = work.members;
  for (int w = first; w <= last; ++w) {
    members.clear();
    for (int v = 0; v < variants; ++v)
      if (windows[v].contains(w)) members.push_back(v);
    const auto& kept = kept_[l][w];
    if (members.empty()) continue;
    if (static_cast<int>(kept.size()) < channels)
      for (int v : members) {
        const float* x = work.state.data() + static_cast<std::size_t>(rows[v] + w - windows[v].start) * channels;
        std::size_t j = 0;
        for (int c = 0; c < channels; ++c) {
          if (j < kept.size() && kept[j] == c) ++j;
          else if (!std::isfinite(x[c])) poisoned[v] = 1;
        }
      }
    if (kept.empty()) continue;
    // Deltas of column w of every member, kept channels only, sorted by classify_row (zero rows
    // left out, sparse rows multiplied as such); members reordered as their product rows.
    const int k = static_cast<int>(kept.size());
    work.delta.resize(members.size() * static_cast<std::size_t>(k));
    work.start_sparse_rows();
    StageCost& cost = work.costs[l];
    int dense = 0, zero_rows = 0;
    for (int v : members) {
      const float* x = work.state.data() + static_cast<std::size_t>(rows[v] + w - windows[v].start) * channels;
      const float* reference = reference_row(l, group.variants.reference[v], w);
      float* d = work.delta.data() + static_cast<std::size_t>(dense) * k;
      for (int j = 0; j < k; ++j) d[j] = x[kept[j]] - reference[kept[j]];
      switch (classify_row(l, d, k, work, cost)) {
        case RowKind::zero: ++zero_rows; break;
        case RowKind::sparse: work.sparse_members.push_back(v); break;
        case RowKind::dense: members[dense++] = v; break;
      }
    }
    members.resize(dense);
    members.insert(members.end(), work.sparse_members.begin(), work.sparse_members.end());
    cost.skipped_macs += static_cast<double>(zero_rows) * k * out;
    if (members.empty()) continue;
    multiply_differences(dense, k, linear_weights_[l][w], out, work, cost);
    const int m = static_cast<int>(members.size());
    // Summed over the columns in increasing order, whatever the group.
    for (int i = 0; i < m; ++i) {
      float* sum = work.sums.data() + static_cast<std::size_t>(members[i]) * out;
      const float* p = work.products.data() + static_cast<std::size_t>(i) * out;
      for (int o = 0; o < out; ++o) sum[o] += p[o];
    }
  }
  work.next.resize(static_cast<std::size_t>(variants) * out);
  for (int v = 0; v < variants; ++v) {
    const float* reference = reference_row(l + 1, group.variants.reference[v], 0);
    const float* sum = work.sums.data() + static_cast<std::size_t>(v) * out;
    float* x = work.next.data() + static_cast<std::size_t>(v) * out;
    for (int o = 0; o < out; ++o) x[o] = poisoned[v] ? std::numeric_limits<float>::quiet_NaN() : reference[o] + sum[o];
  }
  work.state.swap(work.next);
}

IncrementalKernels::RowKind IncrementalKernels::classify_row(int l, const float* row, int width, Workspace& work,
                                                            StageCost& cost) const {
  int nonzero = 0;
  for (int c = 0; c < width; ++c) nonzero += row[c] != 0.0f;
  cost.delta_entries += width;
  cost.zero_entries += width - nonzero;
  cost.delta_rows += 1;
  if (!skip_zero_rows_[l]) return RowKind::dense;
  if (nonzero == 0) {
    cost.zero_rows += 1;
    return RowKind::zero;
  }
  // A sparse row costs about sparse_row_cost_ dense multiply-accumulates per nonzero (a weight row
  // loaded for every fma, where the dense kernel reuses each load for 8 rows).
  if (static_cast<double>(nonzero) * sparse_row_cost_ > width) return RowKind::dense;
  for (int c = 0; c < width; ++c)
    if (row[c] != 0.0f) {
      work.sparse_index.push_back(c);
      work.sparse_value.push_back(row[c]);
    }
  work.sparse_start.push_back(static_cast<int>(work.sparse_index.size()));
  return RowKind::sparse;
}

void IncrementalKernels::multiply_differences(int dense, int width, const PackedColumns& weights, int n,
                                              Workspace& work, StageCost& cost) const {
  const int sparse = static_cast<int>(work.sparse_start.size()) - 1;
  work.products.resize(static_cast<std::size_t>(dense + sparse) * n);
  if (dense > 0)
    gemm(PackedMatrix(work.delta.data(), dense, width, width, isa_), weights, n, work.products.data(), n);
  if (sparse > 0)
    sparse_gemm({sparse, work.sparse_start.data(), work.sparse_index.data(), work.sparse_value.data()}, weights, n,
                work.products.data() + static_cast<std::size_t>(dense) * n, n);
  const double nonzeros = static_cast<double>(work.sparse_index.size());
  cost.macs += (static_cast<double>(dense) * width + nonzeros) * n;
  cost.skipped_macs += (static_cast<double>(sparse) * width - nonzeros) * n;
}

}  // namespace deepmr::model
