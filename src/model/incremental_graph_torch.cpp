// The incremental network for graph models on LibTorch operators (issue 16, item 4).
//
// Per group of variants (each a reference with one input column changed) every node is in one of
// three states:
//   - unchanged: no variant's change reaches it; its values are the reference's;
//   - window: per variant, the contiguous hull of the columns its change can reach (the union at
//     merges: add, sub, concat), carried as a window of the group's widest hull (V x C x W, each
//     variant's window at its own start, clamped into the length); a dilated convolution's hull
//     spans (k - 1) * d + 1 columns although only k of them change (the cost of rectangular
//     tensors, as in the Sequential engine);
//   - full: downstream of a stop node (global pooling, flatten, linear, softmax over the length,
//     padded pooling, ...): the variant evaluated in full, rows = variants, from the reference's
//     values with the window substituted;
//   - flat: a flatten (and a dropout on its features) of a windowed node, kept as that window; a
//     linear layer reads it on differences, y = y_ref + (x - x_ref)[changed features] W^T (the
//     columns of the group's hulls), any other consumer in full.
// Convolutions (and transposed convolutions) on windows run on differences: new = reference +
// conv(x_new - x_ref) from the changed input columns (on the CPU, groups 1: one matrix product per
// block of variants, from each variant's input hull for stride 1, over its output hull otherwise),
// so an exactly zero difference leaves the reference's bits; residual adds combine the windows and
// the references in one pass; nodes no requested output reads are skipped; other window ops apply
// to the new values, and columns outside a variant's hull, and elements whose input equals the
// reference's under a non-linear pointwise op, take the
// reference's values, so that a change the model cannot see leaves every output bitwise equal to
// the reference's (paired masks: exactly zero effects). Full-state nodes and the reference passes
// evaluate rows in chunks of GraphTorchNetwork's fixed size (zero-padded), as the full network does.
// Dropout: the sample's mask columns (the graph sites' masks, as the full network applies them).
//
// The reference pass runs once per sample (every node's output kept); samples per pass: 1.

#include "incremental_graph_torch.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <climits>
#include <cstring>

#include "deepmr/common/error.hpp"
#include "deepmr/model/graph.hpp"
#include "graph_ops.hpp"
#include "graph_torch_network.hpp"
#include "torch_network.hpp"  // use_exact_cuda_numerics

namespace deepmr::model {
namespace {

struct Hull {
  int first = 0, last = -1;
  bool empty() const { return last < first; }
  int width() const { return empty() ? 0 : last - first + 1; }
};

Hull unite(Hull a, Hull b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return {std::min(a.first, b.first), std::max(a.last, b.last)};
}

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int ceil_div(int a, int b) { return -floor_div(-a, b); }

// Output columns o (< out_length) whose taps o * stride + t * dilation - pad read a column of `in`.
Hull tap_reach(Hull in, int kernel, int stride, int dilation, int pad, int out_length) {
  if (in.empty()) return {};
  int first = INT_MAX, last = INT_MIN;
  for (int t = 0; t < kernel; ++t) {
    const int offset = t * dilation - pad;
    const int lo = std::max(0, ceil_div(in.first - offset, stride));
    const int hi = std::min(out_length - 1, floor_div(in.last - offset, stride));
    if (lo > hi) continue;
    first = std::min(first, lo);
    last = std::max(last, hi);
  }
  return first > last ? Hull{} : Hull{first, last};
}

bool sequence_dims(const GraphNode& n) { return n.dims.size() == 2; }


bool nonlinear_pointwise(OpKind kind) {
  switch (kind) {
    case OpKind::elu:
    case OpKind::gelu:
    case OpKind::softplus:
    case OpKind::sigmoid:
    case OpKind::tanh:
    case OpKind::exp:
    case OpKind::batch_norm: return true;
    default: return false;
  }
}

// Whether every value of a parameter is finite: the difference forms need W * 0 == 0 (an infinite
// weight gives NaN where the full evaluation gives an infinity).
bool all_finite(const GraphTensor& t) {
  for (float x : t.f32)
    if (!std::isfinite(x)) return false;
  for (double x : t.f64)
    if (!std::isfinite(x)) return false;
  return true;
}

// Whether a node can be evaluated on windows of columns (given sequence-shaped inputs).
bool windowable(const Graph& graph, const GraphNode& n) {
  if (!sequence_dims(n)) return false;
  for (int id : n.inputs)
    if (!sequence_dims(graph.nodes.at(static_cast<std::size_t>(id)))) return false;
  switch (n.kind) {
    case OpKind::conv:
      return n.kernel >= 1 && n.stride >= 1 && n.dilation >= 1 && all_finite(n.weight) && all_finite(n.bias);
    case OpKind::conv_transpose:
      return n.kernel >= 1 && n.stride >= 1 && n.dilation >= 1 && n.groups >= 1 && all_finite(n.weight) &&
             all_finite(n.bias);
    case OpKind::max_pool:
    case OpKind::avg_pool: return n.pad_left == 0 && n.pad_right == 0 && n.kernel >= 1 && n.stride >= 1 && n.dilation >= 1;
    case OpKind::relu:
    case OpKind::elu:
    case OpKind::gelu:
    case OpKind::softplus:
    case OpKind::sigmoid:
    case OpKind::tanh:
    case OpKind::exp:
    case OpKind::threshold:
    case OpKind::batch_norm:
    case OpKind::add_constant:
    case OpKind::sub_constant:
    case OpKind::mul_constant:
    case OpKind::div_constant:
    case OpKind::dropout: return true;
    case OpKind::add:
    case OpKind::sub: {
      const auto& a = graph.nodes.at(static_cast<std::size_t>(n.inputs.at(0))).dims;
      const auto& b = graph.nodes.at(static_cast<std::size_t>(n.inputs.at(1))).dims;
      return a == b && a == n.dims;
    }
    case OpKind::concat: return n.axis == 0;
    case OpKind::crop: return n.start >= 0 && n.end > n.start;
    default: return false;
  }
}

// Per node: evaluated in full (a stop node or downstream of one) rather than on windows.
std::vector<bool> full_nodes(const Graph& graph) {
  std::vector<bool> full(graph.nodes.size(), false);
  for (std::size_t i = 1; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    bool f = !windowable(graph, n);
    for (int id : n.inputs) f = f || full.at(static_cast<std::size_t>(id));
    full[i] = f;
  }
  return full;
}

// The hull of a windowed node's changed columns from its inputs' (full nodes: unused).
Hull node_hull(const GraphNode& n, const std::vector<Hull>& hulls) {
  const Hull in = hulls.at(static_cast<std::size_t>(n.inputs.at(0)));
  const int out_length = static_cast<int>(n.dims.at(1));
  switch (n.kind) {
    case OpKind::conv: return tap_reach(in, n.kernel, n.stride, n.dilation, n.pad_left, out_length);
    case OpKind::conv_transpose: {  // input column c reaches c * stride - pad + t * dilation
      if (in.empty()) return {};
      const Hull h{std::max(0, in.first * n.stride - n.pad_left),
                   std::min(out_length - 1, in.last * n.stride - n.pad_left + (n.kernel - 1) * n.dilation)};
      return h.empty() ? Hull{} : h;
    }
    case OpKind::max_pool:
    case OpKind::avg_pool: return tap_reach(in, n.kernel, n.stride, n.dilation, 0, out_length);
    case OpKind::crop: {
      if (in.empty()) return {};
      Hull h{std::max(0, in.first - static_cast<int>(n.start)), std::min(out_length - 1, in.last - static_cast<int>(n.start))};
      return h.empty() ? Hull{} : h;
    }
    case OpKind::add:
    case OpKind::sub:
    case OpKind::concat: {
      Hull h;
      for (int id : n.inputs) h = unite(h, hulls.at(static_cast<std::size_t>(id)));
      return h;
    }
    default: return in;
  }
}

at::Tensor longs(const std::vector<int64_t>& values, const at::Device& device) {
  return at::from_blob(const_cast<int64_t*>(values.data()), {static_cast<int64_t>(values.size())}, at::kLong)
      .clone()
      .to(device);
}

// The CPU path of the column gathers: out[v, c, j] (V x C x e) for column starts[v] + j of variant
// v: inside the window (columns window_starts[v] .. + W - 1), window[v, c, .]; elsewhere the
// reference's column (reference refs[v] of ref, count x C x L), or 0 when ref is null. Segments
// copied with memcpy (the generic path's gathers touch element by element).
void assemble_cpu(const float* ref, int64_t length, const float* window, const std::vector<int64_t>* window_starts,
                  int64_t w, const std::vector<int64_t>& refs, const std::vector<int64_t>& starts, int64_t e,
                  int64_t channels, float* out) {
  const int64_t v = static_cast<int64_t>(starts.size());
  at::parallel_for(0, v * channels, 16, [&](int64_t begin, int64_t end) {
    for (int64_t vc = begin; vc < end; ++vc) {
      const int64_t r = vc / channels, c = vc % channels;
      float* o = out + vc * e;
      const int64_t first = starts[static_cast<std::size_t>(r)];
      const float* ref_row = ref ? ref + (refs[static_cast<std::size_t>(r)] * channels + c) * length : nullptr;
      int64_t a = 0, b = 0;  // the window's columns, relative to first: [a, b)
      if (window) {
        const int64_t ws = (*window_starts)[static_cast<std::size_t>(r)] - first;
        a = std::max<int64_t>(0, std::min(e, ws));
        b = std::max<int64_t>(a, std::min(e, ws + w));
        if (b > a) std::memcpy(o + a, window + vc * w + (a - ws), sizeof(float) * static_cast<std::size_t>(b - a));
      }
      auto outside = [&](int64_t from, int64_t to) {  // columns first + from .. first + to - 1
        for (int64_t j = from; j < to;) {
          const int64_t col = first + j;
          if (!ref_row || col < 0 || col >= length) {
            o[j] = 0.0f;
            ++j;
            continue;
          }
          const int64_t n = std::min(to - j, length - col);
          std::memcpy(o + j, ref_row + col, sizeof(float) * static_cast<std::size_t>(n));
          j += n;
        }
      };
      outside(0, a);
      outside(b, e);
    }
  });
}

// Rows per operator call of the full nodes on the CPU (the references' and the variants' alike):
// fixed, so that a row's bits do not depend on the group; groups are evaluated in parts of this
// many variants (tensors that stay in the caches, full-node chunks without padding).
constexpr int kCpuFullChunk = 32;

// The CPU path of the differences a convolution reads: out[v, c, j] = window[v, c, col - ws[v]] -
// reference column col (col = starts[v] + j) inside the window, 0 elsewhere; one pass. Outside a
// variant's hull the window holds the reference's bits, so those differences are exactly zero
// (set_sample evaluates a sample in full when a reference value is not finite).
void assemble_delta_cpu(const float* ref, int64_t length, const float* window, const std::vector<int64_t>& window_starts,
                        int64_t w, const std::vector<int64_t>& refs, const std::vector<int64_t>& starts, int64_t e,
                        int64_t channels, float* out) {
  const int64_t v = static_cast<int64_t>(starts.size());
  at::parallel_for(0, v * channels, 16, [&](int64_t begin, int64_t end) {
    for (int64_t vc = begin; vc < end; ++vc) {
      const int64_t r = vc / channels, c = vc % channels;
      float* o = out + vc * e;
      const int64_t first = starts[static_cast<std::size_t>(r)];
      const int64_t ws = window_starts[static_cast<std::size_t>(r)] - first;
      const int64_t a = std::max<int64_t>(0, std::min(e, ws)), b = std::max<int64_t>(a, std::min(e, ws + w));
      const float* win = window + vc * w + (a - ws);
      const float* ref_row = ref + (refs[static_cast<std::size_t>(r)] * channels + c) * length + first;
      std::fill(o, o + a, 0.0f);
      for (int64_t j = a; j < b; ++j) o[j] = win[j - a] - ref_row[j];
      std::fill(o + b, o + e, 0.0f);
    }
  });
}

// V x C x w: variant v's columns starts[v] .. starts[v] + w - 1 of reference refs[v] (ref: count x
// C x length, contiguous), where a convolution on differences adds its products.
at::Tensor reference_columns(const float* ref, int64_t channels, int64_t length, const std::vector<int64_t>& refs,
                             const std::vector<int64_t>& starts, int64_t w, const at::TensorOptions& options) {
  const int64_t v = static_cast<int64_t>(refs.size());
  at::Tensor y = at::empty({v, channels, w}, options);
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, v * channels, 16, [&](int64_t begin, int64_t end) {
    for (int64_t vc = begin; vc < end; ++vc) {
      const int64_t r = vc / channels, c = vc % channels;
      std::memcpy(yp + vc * w,
                  ref + (refs[static_cast<std::size_t>(r)] * channels + c) * length + starts[static_cast<std::size_t>(r)],
                  sizeof(float) * static_cast<std::size_t>(w));
    }
  });
  return y;
}

class IncrementalGraphTorch final : public IncrementalNetwork {
 public:
  IncrementalGraphTorch(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs, const Device& device,
                        const IncrementalOptions& options);
  void set_region(const float* references, int count, std::vector<VariantGroup> groups) override;
  void set_sample(const DropoutMasks* masks) override;
  void reference_outputs(float* out) override;
  void evaluate(float* out) override;
  std::vector<StageCost> costs() const override { return costs_; }
  std::string description() const override {
    return device_.is_cuda() ? "cuda:" + std::to_string(device_.index()) + ", LibTorch operators, incremental (graph)"
                             : "cpu, LibTorch operators, incremental (graph)";
  }

 private:
  // flat: a flatten (and dropout on its features) of a windowed node, kept as that node's window
  // (`source`; the dropout's mask in `mask`) until a consumer needs it in full: a linear layer
  // reads it as differences in the changed columns' features.
  enum class Mode { unchanged, window, full, flat };
  struct State {
    Mode mode = Mode::unchanged;
    at::Tensor values;            // window, flat: V x C x W; full: V x dims
    std::vector<int64_t> starts;  // window, flat: per variant
    int64_t width = 0;
    std::vector<Hull> hulls;      // window, flat: per variant
    int source = -1;              // flat: the windowed node flattened
    at::Tensor mask;              // flat: the dropout mask on the features (1 x features), if any
  };
  struct Param {
    at::Tensor weight, bias, running_mean, running_var, mask;  // mask: the sample's (dropout), 1 x dims
    // conv (CPU, groups 1): the weight as C_out x (C_in * k); linear after a flatten: the weight as
    // L x C x out (the features of a column j: rows j * C .. j * C + C - 1).
    at::Tensor gemm_weight;
    at::Tensor tap_weight;  // conv (CPU, groups 1, stride 1): (k * C_out) x C_in, tap-major
    bool finite = true;  // every weight finite (the difference forms need W * 0 == 0)
    int dropout_ordinal = -1;
    int last_use = -1;
  };

  at::Tensor apply(std::size_t i, const std::vector<at::Tensor>& in) const;
  at::Tensor apply_chunked(std::size_t i, const std::vector<at::Tensor>& in) const;
  at::Tensor ref_flat(std::size_t node);
  at::Tensor ref_at(std::size_t node, const std::vector<int64_t>& refs, const std::vector<int64_t>& starts, int64_t e);
  at::Tensor values_at(const State& s, std::size_t node, const std::vector<int64_t>& refs,
                       const std::vector<int64_t>& starts, int64_t e);
  at::Tensor delta_at(const State& s, std::size_t node, const std::vector<int64_t>& refs,
                      const std::vector<int64_t>& starts, int64_t e);
  at::Tensor to_full(const State& s, std::size_t node, const std::vector<int64_t>& refs);
  at::Tensor linear_on_differences(std::size_t i, const State& x, const std::vector<int64_t>& refs);
  at::Tensor conv_cpu(std::size_t i, const State& x, std::size_t in0, const State& s, const std::vector<int64_t>& refs,
                      double* macs);
  at::Tensor conv_taps_cpu(std::size_t i, const State& x, std::size_t in0, const State& s,
                           const std::vector<int64_t>& refs, double* macs);
  at::Tensor add_cpu(std::size_t i, const State& s, const std::vector<State>& states, const std::vector<int64_t>& refs);
  void evaluate_group(const VariantGroup& group, float* out);
  void add_cost(int stage, double seconds, double macs) {
    costs_[static_cast<std::size_t>(stage)].seconds += seconds;
    costs_[static_cast<std::size_t>(stage)].macs += macs;
  }

  at::Device device_;
  const Graph* graph_;
  int chunk_;
  std::vector<Param> params_;
  std::vector<bool> full_;         // per node: evaluated in full (full_nodes)
  std::vector<bool> sample_full_;  // this sample's: full_, or every node when a reference value is not finite
  std::vector<bool> needed_;  // per node: some requested output depends on it
  std::vector<int> output_nodes_;
  at::Tensor output_index_;
  int count_ = 0;
  at::Tensor references_;        // count x C x L
  std::vector<VariantGroup> groups_;
  bool masked_ = false;
  std::vector<at::Tensor> ref_;       // per node: count x dims (the current sample)
  std::vector<at::Tensor> ref_flat_;  // per sequence node: C x (count * L), lazily
  at::Tensor reference_out_;
  std::vector<StageCost> costs_;
};

IncrementalGraphTorch::IncrementalGraphTorch(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs,
                                             const Device& device, const IncrementalOptions& options)
    : IncrementalNetwork(std::move(stack), std::move(outputs)),
      device_(device.kind == Device::Kind::cuda ? at::Device(at::kCUDA, device.index) : at::Device(at::kCPU)),
      graph_(stack_->graph.get()),
      chunk_(device.kind == Device::Kind::cuda ? GraphTorchNetwork::kCudaChunk : kCpuFullChunk) {
  (void)options;
  if (!graph_) throw InternalError("incremental graph network: the model is not a graph");
  const std::string reason = graph_incremental_unsupported_reason(*graph_);
  if (!reason.empty()) throw ModelError(stack_->source + ": no incremental evaluation: " + reason);
  c10::InferenceMode guard;
  if (device_.is_cuda()) use_exact_cuda_numerics();
  const auto& nodes = graph_->nodes;
  params_.resize(nodes.size());
  int ordinal = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const GraphNode& n = nodes[i];
    auto& p = params_[i];
    const auto tensors = detail::node_tensors(n, at::kFloat, device_);  // a float64 module rounded once
    p.weight = tensors.weight;
    p.bias = tensors.bias;
    p.running_mean = tensors.running_mean;
    p.running_var = tensors.running_var;
    if (n.kind == OpKind::dropout) p.dropout_ordinal = ordinal++;
    for (int id : n.inputs) params_.at(static_cast<std::size_t>(id)).last_use = static_cast<int>(i);
  }
  for (const auto& named : graph_->named_outputs()) {
    output_nodes_.push_back(named.node);
    params_.at(static_cast<std::size_t>(named.node)).last_use = static_cast<int>(nodes.size());
  }
  full_ = full_nodes(*graph_);
  // The nodes some requested output depends on (an output tensor none of whose elements is
  // requested, e.g. a profile head when only the counts are, is not evaluated for the variants).
  needed_.assign(nodes.size(), false);
  {
    std::vector<int> sorted(outputs_.begin(), outputs_.end());
    std::sort(sorted.begin(), sorted.end());
    int64_t offset = 0;
    for (const auto& named : graph_->named_outputs()) {
      int64_t size = 1;
      for (int64_t d : nodes.at(static_cast<std::size_t>(named.node)).dims) size *= d;
      const auto it = std::lower_bound(sorted.begin(), sorted.end(), offset);
      if (it != sorted.end() && *it < offset + size) needed_.at(static_cast<std::size_t>(named.node)) = true;
      offset += size;
    }
    for (std::size_t i = nodes.size(); i-- > 1;)
      if (needed_[i])
        for (int id : nodes[i].inputs) needed_.at(static_cast<std::size_t>(id)) = true;
  }
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    const GraphNode& n = nodes[i];
    auto& p = params_[i];
    if (p.weight.defined()) p.finite = at::isfinite(p.weight).all().item<bool>();
    if (p.finite && p.bias.defined()) p.finite = at::isfinite(p.bias).all().item<bool>();
    if (n.kind == OpKind::conv && n.groups == 1 && device_.is_cpu() && p.weight.defined() && p.weight.dim() == 3)
      p.gemm_weight = p.weight.reshape({p.weight.size(0), -1}).contiguous();
    if (n.kind == OpKind::conv && n.groups == 1 && n.stride == 1 && device_.is_cpu() && p.weight.defined() &&
        p.weight.dim() == 3)
      p.tap_weight = p.weight.permute({2, 0, 1}).reshape({-1, p.weight.size(1)}).contiguous();
    if (n.kind == OpKind::linear && p.weight.defined() && p.weight.dim() == 2) {
      // A linear layer on a flatten of a C x L node (a dropout between them allowed).
      const GraphNode* f = &nodes.at(static_cast<std::size_t>(n.inputs.at(0)));
      if (f->kind == OpKind::dropout) f = &nodes.at(static_cast<std::size_t>(f->inputs.at(0)));
      if (f->kind == OpKind::flatten) {
        const auto& d = nodes.at(static_cast<std::size_t>(f->inputs.at(0))).dims;
        if (d.size() == 2 && p.weight.size(1) == d[0] * d[1])
          p.gemm_weight = p.weight.reshape({p.weight.size(0), d[0], d[1]}).permute({2, 1, 0}).contiguous();
      }
    }
  }
  output_index_ = longs(std::vector<int64_t>(outputs_.begin(), outputs_.end()), device_);
  for (const char* stage : {"reference passes", "full nodes (downstream of a stop)", "outputs"})
    costs_.push_back(StageCost{stage});
}

// The node's operation on full tensors (graph_ops.hpp, as the full network), under the sample's mask.
at::Tensor IncrementalGraphTorch::apply(std::size_t i, const std::vector<at::Tensor>& in) const {
  const GraphNode& n = graph_->nodes[i];
  const Param& p = params_[i];
  return detail::apply_node(n, {p.weight, p.bias, p.running_mean, p.running_var}, in,
                            masked_ ? p.mask : at::Tensor());
}

// apply() on rows in chunks of the fixed size, the last one zero-padded (as the full network).
at::Tensor IncrementalGraphTorch::apply_chunked(std::size_t i, const std::vector<at::Tensor>& in) const {
  const int64_t rows = in.at(0).size(0);
  std::vector<at::Tensor> parts;
  for (int64_t first = 0; first < rows; first += chunk_) {
    const int64_t n = std::min<int64_t>(chunk_, rows - first);
    std::vector<at::Tensor> slice;
    for (const auto& t : in) {
      at::Tensor s = t.slice(0, first, first + n);
      if (n < chunk_) {
        auto shape = s.sizes().vec();
        shape[0] = chunk_ - n;
        s = at::cat({s, at::zeros(shape, s.options())}, 0);
      }
      slice.push_back(s.contiguous());
    }
    at::Tensor y = apply(i, slice);
    parts.push_back(n < chunk_ ? y.slice(0, 0, n) : y);
  }
  return parts.size() == 1 ? parts.front().contiguous() : at::cat(parts, 0);
}

void IncrementalGraphTorch::set_region(const float* references, int count, std::vector<VariantGroup> groups) {
  c10::InferenceMode guard;
  const auto& dims = graph_->nodes.front().dims;
  count_ = count;
  references_ = at::from_blob(const_cast<float*>(references), {count, dims.at(0), dims.at(1)}, at::kFloat)
                    .clone()
                    .to(device_);
  groups_ = std::move(groups);
  ref_.clear();
}

void IncrementalGraphTorch::set_sample(const DropoutMasks* masks) {
  c10::InferenceMode guard;
  const auto start = std::chrono::steady_clock::now();
  masked_ = masks != nullptr;
  const auto& nodes = graph_->nodes;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto& p = params_[i];
    p.mask = at::Tensor();
    if (p.dropout_ordinal < 0 || !masks) continue;
    const auto& values = masks->layers.at(static_cast<std::size_t>(p.dropout_ordinal));
    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), nodes[i].dims.begin(), nodes[i].dims.end());
    p.mask = at::from_blob(const_cast<float*>(values.data()), shape, at::kFloat).clone().to(device_);
    if (p.mask.numel() != static_cast<int64_t>(values.size()))
      throw InternalError("incremental graph network: a dropout mask of the wrong size");
  }
  // The reference pass, every node kept (count rows, in one padded chunk per chunk_ rows).
  // Differences with an infinite or NaN reference value are NaN where a full evaluation is not
  // (inf - inf), so such a sample evaluates every variant in full, from a reference pass in the
  // same chunks: the full engine's values, and exact zeros for identical rows.
  sample_full_ = full_;
  for (bool all_full : {false, true}) {
    if (all_full) std::fill(sample_full_.begin() + 1, sample_full_.end(), true);
    ref_.assign(nodes.size(), at::Tensor());
    ref_flat_.assign(nodes.size(), at::Tensor());
    ref_[0] = references_;
    std::vector<at::Tensor> finite;  // per windowed node, on the device: one synchronisation below
    for (std::size_t i = 1; i < nodes.size(); ++i) {
      std::vector<at::Tensor> in;
      for (int id : nodes[i].inputs) in.push_back(ref_.at(static_cast<std::size_t>(id)));
      // Windowed nodes on the references' rows alone (variants read them through differences); full
      // nodes in the fixed chunks the variants' rows use (identical rows, identical bits).
      ref_[i] = sample_full_[i] ? apply_chunked(i, in) : apply(i, in).contiguous();
      if (!sample_full_[i]) finite.push_back(at::isfinite(ref_[i]).all());
    }
    if (all_full || finite.empty() || at::stack(finite).all().item<bool>()) break;
  }
  std::vector<at::Tensor> heads;
  for (int id : output_nodes_) heads.push_back(ref_.at(static_cast<std::size_t>(id)).reshape({count_, -1}));
  auto flat = heads.size() == 1 ? heads.front() : at::cat(heads, 1);
  reference_out_ = flat.index_select(1, output_index_).to(at::kCPU).contiguous();
  add_cost(0, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0);
}

void IncrementalGraphTorch::reference_outputs(float* out) {
  if (ref_.empty()) throw InternalError("incremental graph network: reference_outputs before set_sample");
  std::memcpy(out, reference_out_.data_ptr<float>(), sizeof(float) * reference_out_.numel());
}

at::Tensor IncrementalGraphTorch::ref_flat(std::size_t node) {
  if (!ref_flat_[node].defined()) {
    const at::Tensor& r = ref_[node];  // count x C x L
    ref_flat_[node] = r.permute({1, 0, 2}).reshape({r.size(1), r.size(0) * r.size(2)}).contiguous();
  }
  return ref_flat_[node];
}

// The reference's values of columns starts[v] .. starts[v] + e - 1 (all inside the length) of
// reference refs[v]: V x C x e.
at::Tensor IncrementalGraphTorch::ref_at(std::size_t node, const std::vector<int64_t>& refs,
                                         const std::vector<int64_t>& starts, int64_t e) {
  const int64_t length = ref_[node].size(2), channels = ref_[node].size(1);
  const int64_t v = static_cast<int64_t>(refs.size());
  if (device_.is_cpu()) {
    at::Tensor out = at::empty({v, channels, e}, ref_[node].options());
    const at::Tensor r = ref_[node].contiguous();
    assemble_cpu(r.data_ptr<float>(), length, nullptr, nullptr, 0, refs, starts, e, channels, out.data_ptr<float>());
    return out;
  }
  std::vector<int64_t> index(static_cast<std::size_t>(v * e));
  for (int64_t r = 0; r < v; ++r)
    for (int64_t j = 0; j < e; ++j) {
      const int64_t column = starts[static_cast<std::size_t>(r)] + j;
      if (column < 0 || column >= length) throw InternalError("incremental graph network: a column outside the length");
      index[static_cast<std::size_t>(r * e + j)] = refs[static_cast<std::size_t>(r)] * length + column;
    }
  return ref_flat(node).index_select(1, longs(index, device_)).reshape({channels, v, e}).permute({1, 0, 2});
}

// The window's values (or, with `delta`, window minus reference) at columns starts[v] + j:
// gathered from the window padded with one zero column (columns outside it read the zero).
namespace {
at::Tensor gather_window(const at::Tensor& window, const std::vector<int64_t>& window_starts,
                         const std::vector<int64_t>& starts, int64_t e, at::Tensor* inside, const at::Device& device) {
  const int64_t v = window.size(0), w = window.size(2);
  std::vector<int64_t> index(static_cast<std::size_t>(v * e));
  std::vector<uint8_t> in(static_cast<std::size_t>(v * e));
  for (int64_t r = 0; r < v; ++r)
    for (int64_t j = 0; j < e; ++j) {
      const int64_t k = starts[static_cast<std::size_t>(r)] + j - window_starts[static_cast<std::size_t>(r)];
      const bool ok = k >= 0 && k < w;
      index[static_cast<std::size_t>(r * e + j)] = ok ? k : w;
      in[static_cast<std::size_t>(r * e + j)] = ok;
    }
  auto padded = at::cat({window, at::zeros({v, window.size(1), 1}, window.options())}, 2);
  auto idx = longs(index, device).reshape({v, 1, e}).expand({v, window.size(1), e});
  if (inside)
    *inside = at::from_blob(in.data(), {v, 1, e}, at::kByte).to(at::kBool).to(device);
  return at::gather(padded, 2, idx);
}
}  // namespace

at::Tensor IncrementalGraphTorch::values_at(const State& s, std::size_t node, const std::vector<int64_t>& refs,
                                            const std::vector<int64_t>& starts, int64_t e) {
  if (s.mode == Mode::window && s.width == e && s.starts == starts) return s.values;
  if (s.mode == Mode::window && device_.is_cpu()) {
    const at::Tensor r = ref_[node].contiguous(), w = s.values.contiguous();
    at::Tensor out = at::empty({static_cast<int64_t>(starts.size()), r.size(1), e}, r.options());
    assemble_cpu(r.data_ptr<float>(), r.size(2), w.data_ptr<float>(), &s.starts, s.width, refs, starts, e, r.size(1),
                 out.data_ptr<float>());
    return out;
  }
  at::Tensor r = ref_at(node, refs, starts, e);
  if (s.mode == Mode::unchanged) return r;
  at::Tensor inside;
  at::Tensor w = gather_window(s.values, s.starts, starts, e, &inside, device_);
  return at::where(inside, w, r);
}

at::Tensor IncrementalGraphTorch::delta_at(const State& s, std::size_t node, const std::vector<int64_t>& refs,
                                           const std::vector<int64_t>& starts, int64_t e) {
  if (device_.is_cpu()) {
    const at::Tensor win = s.values.contiguous(), r = ref_[node].contiguous();
    at::Tensor out = at::empty({static_cast<int64_t>(starts.size()), win.size(1), e}, win.options());
    assemble_delta_cpu(r.data_ptr<float>(), r.size(2), win.data_ptr<float>(), s.starts, s.width, refs, starts, e,
                       win.size(1), out.data_ptr<float>());
    return out;
  }
  const at::Tensor delta = s.values - ref_at(node, refs, s.starts, s.width);
  return gather_window(delta, s.starts, starts, e, nullptr, device_);
}

at::Tensor IncrementalGraphTorch::to_full(const State& s, std::size_t node, const std::vector<int64_t>& refs) {
  if (s.mode == Mode::full) return s.values;
  if (s.mode == Mode::flat) {  // the source's window in full, flattened (and masked, as the dropout does)
    State w = s;
    w.mode = Mode::window;
    at::Tensor x = to_full(w, static_cast<std::size_t>(s.source), refs);
    x = x.reshape({x.size(0), -1});
    return s.mask.defined() ? x * s.mask : x;
  }
  at::Tensor base = ref_[node].index_select(0, longs(refs, device_));
  if (s.mode == Mode::unchanged) return base;
  const int64_t v = s.values.size(0), w = s.width;
  if (device_.is_cpu()) {
    const at::Tensor r = ref_[node].contiguous(), win = s.values.contiguous();
    std::vector<int64_t> zeros(static_cast<std::size_t>(v), 0);
    at::Tensor out = at::empty({v, r.size(1), r.size(2)}, r.options());
    assemble_cpu(r.data_ptr<float>(), r.size(2), win.data_ptr<float>(), &s.starts, w, refs, zeros, r.size(2), r.size(1),
                 out.data_ptr<float>());
    return out;
  }
  std::vector<int64_t> index(static_cast<std::size_t>(v * w));
  for (int64_t r = 0; r < v; ++r)
    for (int64_t j = 0; j < w; ++j) index[static_cast<std::size_t>(r * w + j)] = s.starts[static_cast<std::size_t>(r)] + j;
  auto idx = longs(index, device_).reshape({v, 1, w}).expand({v, s.values.size(1), w});
  return base.scatter_(2, idx, s.values);
}

// A linear layer on a flatten (and dropout) of a windowed C x L node, on differences: the
// variants' features differ from their references' only in the columns of their hulls (the
// union over the group: columns first..last), so y = y_ref + (x - x_ref)[those features] *
// W[:, those features]^T. A variant identical to its reference in them has differences of exactly
// zero, W * 0 = +-0 for finite weights, and y_ref's bits.
at::Tensor IncrementalGraphTorch::linear_on_differences(std::size_t i, const State& x, const std::vector<int64_t>& refs) {
  const Param& p = params_[i];
  const std::size_t src = static_cast<std::size_t>(x.source);
  const int64_t v = static_cast<int64_t>(refs.size()), channels = ref_[src].size(1), length = ref_[src].size(2);
  int first = INT_MAX, last = INT_MIN;
  for (const Hull& h : x.hulls)
    if (!h.empty()) {
      first = std::min(first, h.first);
      last = std::max(last, h.last);
    }
  at::Tensor base = ref_[i].index_select(0, longs(refs, device_));  // V x out
  if (first > last) return base;
  const int64_t e = last - first + 1;
  const std::vector<int64_t> starts(static_cast<std::size_t>(v), first);
  State w = x;
  w.mode = Mode::window;
  at::Tensor d = delta_at(w, src, refs, starts, e);  // V x C x e
  if (x.mask.defined()) d = d * x.mask.reshape({1, channels, length}).slice(2, first, last + 1);
  d = d.permute({0, 2, 1}).reshape({v, e * channels});  // features of column first, first + 1, ...
  const at::Tensor weight = p.gemm_weight.slice(0, first, last + 1).reshape({e * channels, -1});
  return base.add_(at::mm(d, weight));
}

// A convolution (groups 1) on the CPU on differences as one matrix product per block of variants:
// the columns of each variant's hull only (not the group's widest window), their taps' differences
// (window minus reference inside the input's hull, zero elsewhere) gathered as (C_in * k) x columns,
// times the weight C_out x (C_in * k); the output starts as the reference's columns and the product
// is added in the hull. Columns outside the hull keep the reference's bits.
at::Tensor IncrementalGraphTorch::conv_cpu(std::size_t i, const State& x, std::size_t in0, const State& s,
                                           const std::vector<int64_t>& refs, double* macs) {
  const GraphNode& n = graph_->nodes[i];
  const Param& p = params_[i];
  const at::Tensor rin = ref_[in0].contiguous(), rout = ref_[i].contiguous(), xv = x.values.contiguous();
  const int64_t v = static_cast<int64_t>(refs.size()), c_in = rin.size(1), l_in = rin.size(2);
  const int64_t c_out = rout.size(1), l_out = rout.size(2), w = s.width, xw = x.width;
  const int64_t k = n.kernel, stride = n.stride, dil = n.dilation, pad = n.pad_left, rows = c_in * k;
  const float* xp = xv.data_ptr<float>();
  const float* rip = rin.data_ptr<float>();
  const float* rop = rout.data_ptr<float>();
  at::Tensor y = reference_columns(rop, c_out, l_out, refs, s.starts, w, rout.options());
  float* yp = y.data_ptr<float>();
  constexpr int64_t kBudget = 1 << 20;  // floats of gathered taps per product (4 MB)
  for (int64_t first = 0; first < v;) {
    int64_t last = first, cols = 0;
    std::vector<int64_t> offset;
    while (last < v && (last == first || (cols + s.hulls[static_cast<std::size_t>(last)].width()) * rows <= kBudget)) {
      offset.push_back(cols);
      cols += s.hulls[static_cast<std::size_t>(last)].width();
      ++last;
    }
    if (cols > 0) {
      at::Tensor m = at::empty({rows, cols}, rout.options());
      float* mp = m.data_ptr<float>();
      at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          const int64_t c = row / k, t = row % k;
          for (int64_t r = first; r < last; ++r) {
            const Hull& h = s.hulls[static_cast<std::size_t>(r)];
            const Hull& xh = x.hulls[static_cast<std::size_t>(r)];
            const int64_t nv = h.width();
            if (nv == 0) continue;
            float* o = mp + row * cols + offset[static_cast<std::size_t>(r - first)];
            const int64_t base = h.first * stride + t * dil - pad;  // the input column of o[0]
            int64_t j0 = 0, j1 = -1;  // o[j] reads the input's hull: j0 <= j <= j1
            if (!xh.empty()) {
              j0 = std::max<int64_t>(0, ceil_div(static_cast<int>(xh.first - base), static_cast<int>(stride)));
              j1 = std::min<int64_t>(nv - 1, floor_div(static_cast<int>(xh.last - base), static_cast<int>(stride)));
            }
            if (j0 > j1) {
              std::fill(o, o + nv, 0.0f);
              continue;
            }
            std::fill(o, o + j0, 0.0f);
            const float* win = xp + (r * c_in + c) * xw;
            const float* ref = rip + (refs[static_cast<std::size_t>(r)] * c_in + c) * l_in;
            const int64_t ws = x.starts[static_cast<std::size_t>(r)];
            if (stride == 1) {
              for (int64_t j = j0; j <= j1; ++j) o[j] = win[base + j - ws] - ref[base + j];
            } else {
              for (int64_t j = j0; j <= j1; ++j) {
                const int64_t col = base + j * stride;
                o[j] = win[col - ws] - ref[col];
              }
            }
            std::fill(o + j1 + 1, o + nv, 0.0f);
          }
        }
      });
      const at::Tensor out = at::mm(p.gemm_weight, m);  // C_out x cols
      const float* op = out.data_ptr<float>();
      at::parallel_for(0, (last - first) * c_out, 16, [&](int64_t begin, int64_t end) {
        for (int64_t rc = begin; rc < end; ++rc) {
          const int64_t r = first + rc / c_out, c = rc % c_out;
          const Hull& h = s.hulls[static_cast<std::size_t>(r)];
          const int64_t nv = h.width();
          float* yr = yp + (r * c_out + c) * w + (h.first - s.starts[static_cast<std::size_t>(r)]);
          const float* d = op + c * cols + offset[static_cast<std::size_t>(r - first)];
          for (int64_t j = 0; j < nv; ++j) yr[j] += d[j];
        }
      });
      *macs += static_cast<double>(c_out) * static_cast<double>(rows) * static_cast<double>(cols);
    }
    first = last;
  }
  return y;
}

// A convolution (groups 1, stride 1) on the CPU from the changed input columns: each variant's
// input differences in its input hull only (window minus reference), C_in x columns, times every
// tap's weight at once ((k * C_out) x C_in), each tap's product added to the output columns it
// reaches (column i, tap t: output i + pad - t * dilation). The products are k * C_in * C_out per
// changed input column, not per output column (a one-column change into a width-19 conv: 19x
// fewer; a hull of 7 into a width-11 one: 2.4x fewer). The output starts as the reference's columns.
at::Tensor IncrementalGraphTorch::conv_taps_cpu(std::size_t i, const State& x, std::size_t in0, const State& s,
                                                const std::vector<int64_t>& refs, double* macs) {
  const GraphNode& n = graph_->nodes[i];
  const Param& p = params_[i];
  const at::Tensor rin = ref_[in0].contiguous(), rout = ref_[i].contiguous(), xv = x.values.contiguous();
  const int64_t v = static_cast<int64_t>(refs.size()), c_in = rin.size(1), l_in = rin.size(2);
  const int64_t c_out = rout.size(1), l_out = rout.size(2), w = s.width, xw = x.width;
  const int64_t k = n.kernel, dil = n.dilation, pad = n.pad_left;
  const float* xp = xv.data_ptr<float>();
  const float* rip = rin.data_ptr<float>();
  const float* rop = rout.data_ptr<float>();
  at::Tensor y = reference_columns(rop, c_out, l_out, refs, s.starts, w, rout.options());
  float* yp = y.data_ptr<float>();
  constexpr int64_t kBudget = 1 << 20;  // floats of products per block of variants (4 MB)
  for (int64_t first = 0; first < v;) {
    int64_t last = first, cols = 0;
    std::vector<int64_t> offset;
    while (last < v && (last == first || (cols + x.hulls[static_cast<std::size_t>(last)].width()) * k * c_out <= kBudget)) {
      offset.push_back(cols);
      cols += x.hulls[static_cast<std::size_t>(last)].width();
      ++last;
    }
    if (cols > 0) {
      at::Tensor d = at::empty({c_in, cols}, rout.options());
      float* dp = d.data_ptr<float>();
      at::parallel_for(0, c_in, 1, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c)
          for (int64_t r = first; r < last; ++r) {
            const Hull& xh = x.hulls[static_cast<std::size_t>(r)];
            if (xh.empty()) continue;
            float* o = dp + c * cols + offset[static_cast<std::size_t>(r - first)];
            const float* win = xp + (r * c_in + c) * xw + (xh.first - x.starts[static_cast<std::size_t>(r)]);
            const float* ref = rip + (refs[static_cast<std::size_t>(r)] * c_in + c) * l_in + xh.first;
            for (int64_t j = 0, nv = xh.width(); j < nv; ++j) o[j] = win[j] - ref[j];
          }
      });
      const at::Tensor out = at::mm(p.tap_weight, d);  // (k * C_out) x cols
      const float* op = out.data_ptr<float>();
      at::parallel_for(0, (last - first) * c_out, 16, [&](int64_t begin, int64_t end) {
        for (int64_t rc = begin; rc < end; ++rc) {
          const int64_t r = first + rc / c_out, c = rc % c_out;
          const Hull& h = s.hulls[static_cast<std::size_t>(r)];
          const Hull& xh = x.hulls[static_cast<std::size_t>(r)];
          if (h.empty() || xh.empty()) continue;
          const int64_t ys = s.starts[static_cast<std::size_t>(r)];
          const int64_t lo = std::max<int64_t>(h.first, 0), hi = std::min<int64_t>(h.last, l_out - 1);
          float* yr = yp + (r * c_out + c) * w;
          for (int64_t t = 0; t < k; ++t) {
            const int64_t shift = pad - t * dil;  // output column of input column i: i + shift
            const int64_t a = std::max<int64_t>(xh.first, lo - shift), b = std::min<int64_t>(xh.last, hi - shift);
            if (a > b) continue;
            const float* src = op + (t * c_out + c) * cols + offset[static_cast<std::size_t>(r - first)] + (a - xh.first);
            float* dst = yr + (a + shift - ys);
            for (int64_t j = 0; j <= b - a; ++j) dst[j] += src[j];
          }
        }
      });
      *macs += static_cast<double>(k * c_out) * static_cast<double>(c_in) * static_cast<double>(cols);
    }
    first = last;
  }
  return y;
}

// add / sub (alpha 1) of two windowed or unchanged inputs on the CPU in one pass: the reference's
// columns, then in the hull the first input's values (its window inside its hull, the reference
// elsewhere) plus or minus the second's. The same float operation as the reference's, so columns
// where both inputs are the reference's get its bits.
at::Tensor IncrementalGraphTorch::add_cpu(std::size_t i, const State& s, const std::vector<State>& states,
                                          const std::vector<int64_t>& refs) {
  const GraphNode& n = graph_->nodes[i];
  const at::Tensor rout = ref_[i].contiguous();
  const int64_t v = static_cast<int64_t>(refs.size()), channels = rout.size(1), length = rout.size(2), w = s.width;
  struct Input {
    const State* state;
    const float* window;
    const float* ref;
    at::Tensor keep;
  };
  Input in[2];
  for (int k = 0; k < 2; ++k) {
    const std::size_t id = static_cast<std::size_t>(n.inputs.at(static_cast<std::size_t>(k)));
    in[k].state = &states[id];
    in[k].keep = ref_[id].contiguous();
    in[k].ref = in[k].keep.data_ptr<float>();
    in[k].window = states[id].mode == Mode::window ? states[id].values.data_ptr<float>() : nullptr;
  }
  const bool subtract = n.kind == OpKind::sub;
  const float* rop = rout.data_ptr<float>();
  at::Tensor y = at::empty({v, channels, w}, rout.options());
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, v * channels, 16, [&](int64_t begin, int64_t end) {
    for (int64_t vc = begin; vc < end; ++vc) {
      const int64_t r = vc / channels, c = vc % channels;
      const std::size_t ru = static_cast<std::size_t>(r);
      const int64_t start = s.starts[ru], ref_row = (refs[ru] * channels + c) * length;
      float* yr = yp + vc * w;  // column start + j at yr[j]
      std::memcpy(yr, rop + ref_row + start, sizeof(float) * static_cast<std::size_t>(w));
      const Hull& h = s.hulls[ru];
      if (h.empty()) continue;
      for (int k = 0; k < 2; ++k) {
        const Input& x = in[k];
        Hull xh = x.window ? x.state->hulls[ru] : Hull{};
        xh = Hull{std::max(xh.first, h.first), std::min(xh.last, h.last)};  // inside the output's hull
        const float* ref = x.ref + ref_row;
        const float* win = x.window ? x.window + vc * x.state->width : nullptr;  // from column starts[ru]
        const int64_t win_start = x.window ? x.state->starts[ru] : 0;
        // Columns from..to - 1 of src (its column src_start at src[0]) into y.
        auto segment = [&](const float* src, int64_t src_start, int64_t from, int64_t to) {
          if (to <= from) return;
          float* dst = yr + (from - start);
          const float* in_row = src + (from - src_start);
          const int64_t count = to - from;
          if (k == 0) std::memcpy(dst, in_row, sizeof(float) * static_cast<std::size_t>(count));
          else if (subtract) for (int64_t j = 0; j < count; ++j) dst[j] -= in_row[j];
          else for (int64_t j = 0; j < count; ++j) dst[j] += in_row[j];
        };
        if (xh.empty()) {
          segment(ref, 0, h.first, h.last + 1);
        } else {
          segment(ref, 0, h.first, xh.first);
          segment(win, win_start, xh.first, xh.last + 1);
          segment(ref, 0, xh.last + 1, h.last + 1);
        }
      }
    }
  });
  return y;
}

void IncrementalGraphTorch::evaluate(float* out) {
  if (ref_.empty()) throw InternalError("incremental graph network: evaluate before set_sample");
  c10::InferenceMode guard;
  const std::size_t n = outputs_.size();
  // Each group in parts of the full nodes' chunk size: every operator's tensors stay small enough
  // for the caches (a group of 256 BPNet variants at full width is 64 MB per activation), and the
  // full nodes' chunks are not padded.
  for (const auto& group : groups_) {
    const std::size_t channels = group.size() == 0 ? 0 : group.values.size() / static_cast<std::size_t>(group.size());
    for (int first = 0; first < group.size(); first += chunk_) {
      const int last = std::min(group.size(), first + chunk_);
      VariantGroup part;
      part.reference.assign(group.reference.begin() + first, group.reference.begin() + last);
      part.column.assign(group.column.begin() + first, group.column.begin() + last);
      part.values.assign(group.values.begin() + static_cast<std::ptrdiff_t>(first * channels),
                         group.values.begin() + static_cast<std::ptrdiff_t>(last * channels));
      evaluate_group(part, out);
      out += static_cast<std::size_t>(part.size()) * n;
    }
  }
}

void IncrementalGraphTorch::evaluate_group(const VariantGroup& group, float* out) {
  const auto& nodes = graph_->nodes;
  const int64_t v = group.size();
  if (v == 0) return;
  const int64_t channels = nodes.front().dims.at(0), length = nodes.front().dims.at(1);
  std::vector<int64_t> refs(group.reference.begin(), group.reference.end());
  std::vector<State> states(nodes.size());
  double seconds[2] = {0, 0}, macs[2] = {0, 0};
  auto clock = std::chrono::steady_clock::now();
  {  // The input: each variant's changed column.
    State& s = states[0];
    s.mode = Mode::window;
    s.width = 1;
    for (int64_t r = 0; r < v; ++r) {
      const int c = group.column[static_cast<std::size_t>(r)];
      if (c < 0 || c >= length) throw InternalError("incremental graph network: a variant column outside the input");
      s.starts.push_back(c);
      s.hulls.push_back({c, c});
    }
    s.values = at::from_blob(const_cast<float*>(group.values.data()), {v, channels, 1}, at::kFloat).clone().to(device_);
  }
  std::vector<Hull> hulls(nodes.size());
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    const GraphNode& n = nodes[i];
    const auto& p = params_[i];
    State& s = states[i];
    bool changed = false;
    for (int id : n.inputs) changed = changed || states[static_cast<std::size_t>(id)].mode != Mode::unchanged;
    if (!changed || !needed_[i]) continue;  // unchanged (or no requested output reads it)
    const auto t0 = std::chrono::steady_clock::now();
    const State* first_in = &states[static_cast<std::size_t>(n.inputs.at(0))];
    if (sample_full_[i] && n.kind == OpKind::flatten && first_in->mode == Mode::window &&
        nodes[static_cast<std::size_t>(n.inputs.at(0))].dims.size() == 2) {
      s = *first_in;  // kept as the window until a consumer needs it in full
      s.mode = Mode::flat;
      s.source = n.inputs.at(0);
    } else if (sample_full_[i] && n.kind == OpKind::dropout && first_in->mode == Mode::flat && !first_in->mask.defined()) {
      s = *first_in;
      if (masked_) s.mask = p.mask;
    } else if (sample_full_[i] && n.kind == OpKind::linear && first_in->mode == Mode::flat && p.gemm_weight.defined() &&
               p.finite) {
      s.mode = Mode::full;
      s.values = linear_on_differences(i, *first_in, refs);
      int first = INT_MAX, last = INT_MIN;
      for (const Hull& h : first_in->hulls)
        if (!h.empty()) first = std::min(first, h.first), last = std::max(last, h.last);
      if (first <= last)
        macs[1] += static_cast<double>(v) * (last - first + 1) * p.gemm_weight.size(1) * p.gemm_weight.size(2);
      seconds[1] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } else if (sample_full_[i]) {
      std::vector<at::Tensor> in;
      for (int id : n.inputs) in.push_back(to_full(states[static_cast<std::size_t>(id)], static_cast<std::size_t>(id), refs));
      s.mode = Mode::full;
      s.values = apply_chunked(i, in);
      if (n.kind == OpKind::conv || n.kind == OpKind::conv_transpose || n.kind == OpKind::linear)
        macs[1] += static_cast<double>(s.values.numel()) *  // per output: inputs x taps (transposed: / stride)
                   (n.kind == OpKind::conv_transpose
                        ? static_cast<double>(p.weight.size(0)) / n.groups * n.kernel / n.stride
                        : static_cast<double>(p.weight.numel() / p.weight.size(0)));
      seconds[1] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } else {
      // Per variant: the hull of its changed columns, and its window of the group's width.
      const int out_length = static_cast<int>(n.dims.at(1));
      s.hulls.resize(static_cast<std::size_t>(v));
      int width = 0;
      for (int64_t r = 0; r < v; ++r) {
        std::vector<Hull> in_hulls(nodes.size());
        for (int id : n.inputs) {
          const State& is = states[static_cast<std::size_t>(id)];
          in_hulls[static_cast<std::size_t>(id)] = is.mode == Mode::window ? is.hulls[static_cast<std::size_t>(r)] : Hull{};
        }
        s.hulls[static_cast<std::size_t>(r)] = node_hull(n, in_hulls);
        width = std::max(width, s.hulls[static_cast<std::size_t>(r)].width());
      }
      if (width == 0) {  // no variant's change reaches it
        s = State{};
        continue;
      }
      s.mode = Mode::window;
      s.width = width;
      for (int64_t r = 0; r < v; ++r) {
        const Hull& h = s.hulls[static_cast<std::size_t>(r)];
        s.starts.push_back(h.empty() ? 0 : std::min<int64_t>(h.first, out_length - width));
      }
      const std::size_t in0 = static_cast<std::size_t>(n.inputs.at(0));
      const State& x = states[in0];
      at::Tensor y;
      bool pointwise_guard = false;
      bool reference_outside = false;  // y has the reference's columns outside the hulls already
      double stage_macs = -1;          // the products a windowed conv computed (default: its window's)
      switch (n.kind) {
        case OpKind::conv: {
          if (p.gemm_weight.defined() && x.mode == Mode::window) {
            double conv_macs = 0;
            y = p.tap_weight.defined() ? conv_taps_cpu(i, x, in0, s, refs, &conv_macs)
                                       : conv_cpu(i, x, in0, s, refs, &conv_macs);
            macs[0] += conv_macs;
            stage_macs = conv_macs;
            reference_outside = true;
            break;
          }
          const int64_t e = (width - 1) * static_cast<int64_t>(n.stride) + static_cast<int64_t>(n.kernel - 1) * n.dilation + 1;
          std::vector<int64_t> from(s.starts.size());
          for (std::size_t r = 0; r < from.size(); ++r) from[r] = s.starts[r] * n.stride - n.pad_left;
          at::Tensor dx = x.mode == Mode::window ? delta_at(x, in0, refs, from, e)
                                                 : at::zeros({v, nodes[in0].dims.at(0), e}, references_.options());
          at::Tensor dy = at::conv1d(dx, p.weight, at::Tensor(), std::vector<int64_t>{n.stride},
                                     std::vector<int64_t>{0}, std::vector<int64_t>{n.dilation}, n.groups);
          y = dy.add_(ref_at(i, refs, s.starts, width));  // reference + difference
          macs[0] += static_cast<double>(dy.numel()) * (p.weight.numel() / p.weight.size(0));
          break;
        }
        case OpKind::conv_transpose: {
          // Linear: new = reference + conv_transpose(x_new - x_ref) (no bias), the differences of
          // the input's window (zero outside its hull) mapped to output columns from
          // window start * stride - pad on; each variant's hull columns added to the reference's.
          const at::Tensor dx = delta_at(x, in0, refs, x.starts, x.width);
          const at::Tensor dy = at::conv_transpose1d(dx, p.weight, at::Tensor(), std::vector<int64_t>{n.stride},
                                                     std::vector<int64_t>{0}, std::vector<int64_t>{0}, n.groups,
                                                     std::vector<int64_t>{n.dilation});
          y = ref_at(i, refs, s.starts, width);
          for (int64_t r = 0; r < v; ++r) {
            const Hull& h = s.hulls[static_cast<std::size_t>(r)];
            if (h.empty()) continue;
            const int64_t origin = x.starts[static_cast<std::size_t>(r)] * n.stride - n.pad_left;  // column of dy's 0
            const int64_t a = std::max<int64_t>(h.first, origin), b = std::min<int64_t>(h.last + 1, origin + dy.size(2));
            if (a >= b) continue;
            const int64_t ys = s.starts[static_cast<std::size_t>(r)];
            y[r].slice(1, a - ys, b - ys).add_(dy[r].slice(1, a - origin, b - origin));
          }
          stage_macs = static_cast<double>(dx.numel()) * (p.weight.numel() / p.weight.size(0));
          macs[0] += stage_macs;
          break;
        }
        case OpKind::max_pool:
        case OpKind::avg_pool: {
          const int64_t e = (width - 1) * static_cast<int64_t>(n.stride) + static_cast<int64_t>(n.kernel - 1) * n.dilation + 1;
          std::vector<int64_t> from(s.starts.size());
          for (std::size_t r = 0; r < from.size(); ++r) from[r] = s.starts[r] * n.stride;
          y = apply(i, {values_at(x, in0, refs, from, e).contiguous()});
          break;
        }
        case OpKind::crop: {
          std::vector<int64_t> from(s.starts.size());
          for (std::size_t r = 0; r < from.size(); ++r) from[r] = s.starts[r] + n.start;
          y = values_at(x, in0, refs, from, width);
          break;
        }
        case OpKind::add:
        case OpKind::sub:
        case OpKind::concat: {
          if (n.kind != OpKind::concat && n.alpha == 1.0 && device_.is_cpu()) {
            y = add_cpu(i, s, states, refs);
            reference_outside = true;
            break;
          }
          std::vector<at::Tensor> in;
          for (int id : n.inputs)
            in.push_back(values_at(states[static_cast<std::size_t>(id)], static_cast<std::size_t>(id), refs, s.starts, width));
          if (n.kind == OpKind::concat) y = at::cat(in, 1);
          else y = apply(i, in);
          break;
        }
        case OpKind::dropout: {
          at::Tensor xv = values_at(x, in0, refs, s.starts, width);
          if (!masked_) {
            y = xv;
            break;
          }
          // The sample's mask at each variant's window columns: V x C x W.
          const at::Tensor& mask = p.mask;  // 1 x C x L
          std::vector<int64_t> index(static_cast<std::size_t>(v * width));
          for (int64_t r = 0; r < v; ++r)
            for (int64_t j = 0; j < width; ++j) index[static_cast<std::size_t>(r * width + j)] = s.starts[static_cast<std::size_t>(r)] + j;
          at::Tensor m = mask[0].index_select(1, longs(index, device_)).reshape({mask.size(1), v, width}).permute({1, 0, 2});
          y = xv * m;
          break;
        }
        default: {  // pointwise
          at::Tensor xv = values_at(x, in0, refs, s.starts, width);
          y = apply(i, {xv});
          if (nonlinear_pointwise(n.kind)) {
            // Where the input is the reference's, the reference's bits (vectorized and scalar
            // paths of an operator may round differently).
            y = at::where(at::eq(xv, ref_at(in0, refs, s.starts, width)), ref_at(i, refs, s.starts, width), y);
            pointwise_guard = true;
          }
          break;
        }
      }
      (void)pointwise_guard;
      // Columns outside a variant's hull are the reference's, bit for bit.
      std::vector<uint8_t> inside(static_cast<std::size_t>(v * width));
      bool all_inside = true;
      for (int64_t r = 0; r < v; ++r)
        for (int64_t j = 0; j < width; ++j) {
          const Hull& h = s.hulls[static_cast<std::size_t>(r)];
          const int64_t c = s.starts[static_cast<std::size_t>(r)] + j;
          const bool in = c >= h.first && c <= h.last;
          inside[static_cast<std::size_t>(r * width + j)] = in;
          all_inside = all_inside && in;
        }
      if (reference_outside) all_inside = true;
      if (!all_inside && device_.is_cpu()) {  // in place: the reference's columns outside the hulls
        y = y.contiguous();
        for (int id : n.inputs)  // never write into an input's window (a crop or unmasked dropout may return it)
          if (states[static_cast<std::size_t>(id)].values.defined() && y.is_alias_of(states[static_cast<std::size_t>(id)].values))
            y = y.clone();
        const at::Tensor r = ref_[i].contiguous();
        const int64_t c_out = y.size(1), ref_length = r.size(2);
        float* yp = y.data_ptr<float>();
        const float* rp = r.data_ptr<float>();
        at::parallel_for(0, v * c_out, 16, [&](int64_t begin, int64_t end) {
          for (int64_t vc = begin; vc < end; ++vc) {
            const int64_t row = vc / c_out, c = vc % c_out;
            const Hull& h = s.hulls[static_cast<std::size_t>(row)];
            const int64_t first = s.starts[static_cast<std::size_t>(row)];
            const float* ref_row = rp + (refs[static_cast<std::size_t>(row)] * c_out + c) * ref_length + first;
            float* y_row = yp + vc * width;
            const int64_t a = h.empty() ? width : std::max<int64_t>(0, std::min<int64_t>(width, h.first - first));
            const int64_t b = h.empty() ? width : std::max<int64_t>(a, std::min<int64_t>(width, h.last + 1 - first));
            if (a > 0) std::memcpy(y_row, ref_row, sizeof(float) * static_cast<std::size_t>(a));
            if (b < width) std::memcpy(y_row + b, ref_row + b, sizeof(float) * static_cast<std::size_t>(width - b));
          }
        });
      } else if (!all_inside) {
        auto mask = at::from_blob(inside.data(), {v, 1, width}, at::kByte).to(at::kBool).to(device_);
        y = at::where(mask, y, ref_at(i, refs, s.starts, width));
      }
      s.values = y.contiguous();
      {
        const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        seconds[0] += spent;
        const std::string stage = "windowed " + op_name(n.kind);
        auto it = std::find_if(costs_.begin(), costs_.end(), [&](const StageCost& c) { return c.stage == stage; });
        if (it == costs_.end()) {
          costs_.push_back(StageCost{stage});
          it = costs_.end() - 1;
        }
        it->seconds += spent;
        if (stage_macs >= 0) it->macs += stage_macs;
        else if (n.kind == OpKind::conv) it->macs += static_cast<double>(y.numel()) * (p.weight.numel() / p.weight.size(0));
      }
    }
    // Free what no later node reads.
    for (int id : n.inputs)
      if (params_[static_cast<std::size_t>(id)].last_use == static_cast<int>(i)) states[static_cast<std::size_t>(id)] = State{};
  }
  (void)macs[0];  // the windowed nodes' costs are per op ("windowed conv", ...)
  add_cost(1, seconds[1], macs[1]);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<at::Tensor> heads;
  for (int id : output_nodes_)
    heads.push_back(to_full(states[static_cast<std::size_t>(id)], static_cast<std::size_t>(id), refs).reshape({v, -1}));
  auto flat = heads.size() == 1 ? heads.front() : at::cat(heads, 1);
  auto host = flat.index_select(1, output_index_).to(at::kCPU).contiguous();
  std::memcpy(out, host.data_ptr<float>(), sizeof(float) * host.numel());
  add_cost(2, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0);
  (void)clock;
}

}  // namespace

std::string graph_incremental_unsupported_reason(const Graph& graph) {
  if (graph.nodes.empty() || graph.nodes.front().kind != OpKind::input || graph.nodes.front().dims.size() != 2)
    return "the graph has no sequence input (channels x length)";
  for (std::size_t i = 1; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    // A concat along the length moves the columns of its later inputs: not followed here.
    if (n.kind == OpKind::concat && n.axis != 0 && n.dims.size() == 2 && n.axis == 1)
      return "node " + std::to_string(i) + " (" + op_name(n.kind) + (n.torch_op.empty() ? "" : ", " + n.torch_op) +
             (n.module_path.empty() ? "" : " in '" + n.module_path + "'") + ") concatenates along the length";
  }
  return "";
}

bool graph_change_reaches_output(const Graph& graph, int column) {
  const auto full = full_nodes(graph);
  std::vector<Hull> hulls(graph.nodes.size());
  std::vector<bool> reached(graph.nodes.size(), false);
  const int length = static_cast<int>(graph.nodes.front().dims.at(1));
  if (column < 0 || column >= length) return false;
  hulls[0] = {column, column};
  reached[0] = true;
  for (std::size_t i = 1; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    bool any = false;
    for (int id : n.inputs) any = any || reached[static_cast<std::size_t>(id)];
    if (!any) continue;
    if (full[i]) {
      reached[i] = true;
      continue;
    }
    hulls[i] = node_hull(n, hulls);
    reached[i] = !hulls[i].empty();
  }
  for (const auto& named : graph.named_outputs())
    if (reached.at(static_cast<std::size_t>(named.node))) return true;
  return false;
}

std::unique_ptr<IncrementalNetwork> make_incremental_graph_torch(std::shared_ptr<const LayerStack> stack,
                                                                 std::vector<int> outputs, const Device& device,
                                                                 const IncrementalOptions& options) {
  return std::make_unique<IncrementalGraphTorch>(std::move(stack), std::move(outputs), device, options);
}

}  // namespace deepmr::model
