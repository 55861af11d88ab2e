// The kernels backend for graph models: every node of the Graph in float32 on deepmr's own CPU
// kernels, in the graph's (topological) order. No LibTorch here.
//
// Values are kept as PyTorch lays them out, batch-major: example b's tensor of the node's dims
// (row-major: {channels, length} channel-major, or {features}) at b * size. A flatten is then no
// copy, and every op other than the matrix products works on one example's values at a time.
//
// Determinism: convolutions, transposed convolutions and linear layers are gemm products (one fma
// chain per output element over k in increasing order, from zero: gemm.hpp), then + bias; every
// other op computes each output element from its inputs by one fixed sequence of operations
// (sums in index order, in double), and the same compiled code runs whatever the ISA the products
// use. So an element's bits do not depend on the batch, the threads or the ISA.

#include "graph_kernel_network.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "deepmr/common/error.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/model/graph.hpp"
#include "pointwise.hpp"

namespace deepmr::model {
namespace {

// A parameter in float32: a float64 module's values rounded once (to nearest), as the torch
// backend's parameters are.
std::vector<float> to_float(const GraphTensor& t) {
  if (t.float64) return std::vector<float>(t.f64.begin(), t.f64.end());
  return t.f32;
}

std::size_t per_example(const std::vector<std::int64_t>& dims) {
  std::size_t size = 1;
  for (auto d : dims) size *= static_cast<std::size_t>(d);
  return size;
}

// The im2col view of one group of a convolution's input (batch-major values): row (tap, channel of
// the group), tap-major; column (example, output column); zero where a tap falls into the padding.
// Tap-major as in kernel_network.cpp: with one-hot input two bases whose weights are identical give
// bitwise identical sums (the paired-mask zero-effect guarantee).
class ConvSource : public PanelSource {
 public:
  ConvSource(const float* x, int channels, int width, int batch, int first_channel, int group_channels,
             int out_width, int stride, int dilation, int pad_left, bool transposed)
      : x_(x), channels_(channels), width_(width), batch_(batch), first_channel_(first_channel),
        group_channels_(group_channels), out_width_(out_width), stride_(stride), dilation_(dilation),
        pad_left_(pad_left), transposed_(transposed) {}

  void pack(int k0, int kc, int n0, int nr, float* dest) const override {
    const int valid = std::clamp(batch_ * out_width_ - n0, 0, nr);
    for (int r = 0; r < kc; ++r) {
      const int row = k0 + r;
      const int tap = row / group_channels_, channel = first_channel_ + row % group_channels_;
      float* out = dest + static_cast<std::size_t>(r) * nr;
      int example = n0 / out_width_, column = n0 % out_width_;
      // Example by example: the panel's columns of one example are consecutive output columns.
      for (int j = 0; j < valid; column = 0, ++example) {
        const int count = std::min(valid - j, out_width_ - column);
        const float* plane = x_ + (static_cast<std::size_t>(example) * channels_ + channel) * width_;
        float* to = out + j;
        if (stride_ == 1) {
          // Input columns first .. first + count - 1, zero outside the input: one copy. (Transposed,
          // output column t reads input column t + pad - tap * dilation.)
          const int first = column + (transposed_ ? pad_left_ - tap * dilation_ : tap * dilation_ - pad_left_);
          const int lo = std::clamp(-first, 0, count), hi = std::clamp(width_ - first, lo, count);
          std::fill(to, to + lo, 0.0f);
          std::copy(plane + first + lo, plane + first + hi, to + lo);
          std::fill(to + hi, to + count, 0.0f);
        } else if (!transposed_) {
          for (int i = 0; i < count; ++i) {
            const int position = (column + i) * stride_ + tap * dilation_ - pad_left_;
            to[i] = position >= 0 && position < width_ ? plane[position] : 0.0f;
          }
        } else {
          // Output column t reads input column s where t = s * stride - pad + tap * dilation.
          for (int i = 0; i < count; ++i) {
            const int shifted = column + i + pad_left_ - tap * dilation_;
            const int position = shifted >= 0 && shifted % stride_ == 0 ? shifted / stride_ : -1;
            to[i] = position >= 0 && position < width_ ? plane[position] : 0.0f;
          }
        }
        j += count;
      }
      std::fill(out + valid, out + nr, 0.0f);
    }
  }

 private:
  const float* x_;
  int channels_, width_, batch_, first_channel_, group_channels_, out_width_, stride_, dilation_, pad_left_;
  bool transposed_;
};

// The transpose of batch-major rows (rows x k): row (feature), column (example).
class RowsSource : public PanelSource {
 public:
  RowsSource(const float* x, int rows, int k) : x_(x), rows_(rows), k_(k) {}
  void pack(int k0, int kc, int n0, int nr, float* dest) const override {
    for (int r = 0; r < kc; ++r)
      for (int j = 0; j < nr; ++j)
        dest[static_cast<std::size_t>(r) * nr + j] =
            n0 + j < rows_ ? x_[static_cast<std::size_t>(n0 + j) * k_ + k0 + r] : 0.0f;
  }

 private:
  const float* x_;
  int rows_, k_;
};

// A reduction's (or softmax's) view of one example's values: `outer` blocks of `count` x `inner`
// values, reduced over the middle index.
struct AxisView {
  std::size_t outer = 1, count = 1, inner = 1;
};
AxisView axis_view(const std::vector<std::int64_t>& dims, int axis) {
  AxisView v;
  for (int a = 0; a < static_cast<int>(dims.size()); ++a) {
    const auto d = static_cast<std::size_t>(dims[static_cast<std::size_t>(a)]);
    if (a < axis)
      v.outer *= d;
    else if (a == axis)
      v.count = d;
    else
      v.inner *= d;
  }
  return v;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

// An allocator that leaves new floats uninitialized (every value is written before it is read):
// growing a buffer costs no memset.
template <typename T>
struct NoInit : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = NoInit<U>;
  };
  NoInit() = default;
  template <typename U>
  NoInit(const NoInit<U>&) noexcept {}
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0)
      ::new (static_cast<void*>(p)) U;
    else
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using Buffer = std::vector<float, NoInit<float>>;

}  // namespace

struct GraphKernelNetwork::Impl {
  const Graph* graph = nullptr;
  struct Step {
    std::vector<PackedMatrix> weights;  // conv, conv_transpose: one per group; linear: one
    // conv, conv_transpose with a NaN or infinite weight: the rows of every group unpacked (group
    // after group), for the direct evaluation that skips the padding as PyTorch does.
    std::vector<float> direct;
    std::vector<float> bias;            // conv, conv_transpose, linear (zeros without one); batch norm: shift
    std::vector<float> scale;           // batch norm
    int dropout_ordinal = -1;
    int last_use = -1;  // the last node (or the output gathering: nodes.size()) reading this node's value
    std::size_t size = 0;  // values per example
  };
  std::vector<Step> steps;
  struct Pick {
    int node = -1;
    std::size_t element = 0;  // per example
  };
  std::vector<Pick> picks;  // per requested output
  // Values of the nodes (reused between calls), free buffers, the products' scratch.
  std::vector<Buffer> values;
  std::vector<Buffer> spare;
  Buffer product;

  // A buffer for a node's values: the smallest spare one that holds them, else the largest (grown),
  // so that calls of one batch size allocate nothing after the first.
  Buffer& acquire(std::size_t node, std::size_t count) {
    auto& v = values[node];
    if (v.capacity() == 0 && !spare.empty()) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < spare.size(); ++i) {
        const std::size_t have = spare[i].capacity(), kept = spare[best].capacity();
        const bool fits = have >= count, kept_fits = kept >= count;
        if ((fits && (!kept_fits || have < kept)) || (!fits && !kept_fits && have > kept)) best = i;
      }
      v = std::move(spare[best]);
      spare.erase(spare.begin() + static_cast<std::ptrdiff_t>(best));
    }
    v.resize(count);
    return v;
  }
  void release(std::size_t node) {
    if (values[node].capacity() > 0) spare.push_back(std::move(values[node]));
    values[node].clear();
  }
  void evaluate(std::size_t index, const std::vector<const float*>& data, int batch, const DropoutMasks* masks,
                int threads);
};

GraphKernelNetwork::GraphKernelNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs)
    : Network(std::move(stack), std::move(outputs)), impl_(std::make_unique<Impl>()) {
  if (!stack_->graph) throw InternalError("GraphKernelNetwork: the model is not a graph");
  const Graph& graph = *stack_->graph;
  impl_->graph = &graph;
  if (graph.nodes.empty() || graph.nodes.front().kind != OpKind::input || graph.nodes.front().dims.size() != 2)
    throw InternalError("GraphKernelNetwork: the graph has no sequence input node");
  impl_->steps.resize(graph.nodes.size());
  int ordinal = 0;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    auto& step = impl_->steps[i];
    step.size = per_example(n.dims);
    for (int id : n.inputs) {
      if (id < 0 || id >= static_cast<int>(i)) throw InternalError("GraphKernelNetwork: nodes out of order");
      impl_->steps[static_cast<std::size_t>(id)].last_use = static_cast<int>(i);
    }
    const auto where = [&] { return "GraphKernelNetwork: node " + std::to_string(i) + " (" + op_name(n.kind) + ")"; };
    switch (n.kind) {
      case OpKind::conv:
      case OpKind::conv_transpose: {
        const bool transposed = n.kind == OpKind::conv_transpose;
        const auto& in_dims = graph.nodes.at(static_cast<std::size_t>(n.inputs.at(0))).dims;
        if (in_dims.size() != 2 || n.dims.size() != 2 || n.groups < 1 || n.kernel < 1 || n.stride < 1 ||
            n.dilation < 1)
          throw InternalError(where() + ": unexpected shapes");
        const int cin = static_cast<int>(in_dims[0]), cout = static_cast<int>(n.dims[0]);
        if (cin % n.groups != 0 || cout % n.groups != 0) throw InternalError(where() + ": groups do not divide channels");
        const int cin_g = cin / n.groups, cout_g = cout / n.groups, k = n.kernel;
        const auto w = to_float(n.weight);
        if (w.size() != static_cast<std::size_t>(cout) * cin_g * k) throw InternalError(where() + ": weight size");
        // Rows: the group's output channels; columns (tap, input channel of the group), tap-major.
        std::vector<float> rows(static_cast<std::size_t>(cout_g) * k * cin_g);
        for (int g = 0; g < n.groups; ++g) {
          for (int o = 0; o < cout_g; ++o)
            for (int tap = 0; tap < k; ++tap)
              for (int c = 0; c < cin_g; ++c) {
                // conv: weight O x I/groups x K; conv_transpose: weight I x O/groups x K.
                const std::size_t from =
                    transposed ? ((static_cast<std::size_t>(g) * cin_g + c) * cout_g + o) * k + tap
                               : ((static_cast<std::size_t>(g) * cout_g + o) * cin_g + c) * k + tap;
                rows[(static_cast<std::size_t>(o) * k + tap) * cin_g + c] = w[from];
              }
          step.weights.emplace_back(rows.data(), cout_g, k * cin_g, k * cin_g);
          if (!std::all_of(w.begin(), w.end(), [](float v) { return std::isfinite(v); }))
            step.direct.insert(step.direct.end(), rows.begin(), rows.end());
        }
        step.bias = n.bias.empty() ? std::vector<float>(static_cast<std::size_t>(cout), 0.0f) : to_float(n.bias);
        if (step.bias.size() != static_cast<std::size_t>(cout)) throw InternalError(where() + ": bias size");
        break;
      }
      case OpKind::linear: {
        const auto& in_dims = graph.nodes.at(static_cast<std::size_t>(n.inputs.at(0))).dims;
        if (in_dims.size() != 1 || n.dims.size() != 1) throw InternalError(where() + ": unexpected shapes");
        const int in = static_cast<int>(in_dims[0]), out = static_cast<int>(n.dims[0]);
        const auto w = to_float(n.weight);
        if (w.size() != static_cast<std::size_t>(out) * in) throw InternalError(where() + ": weight size");
        step.weights.emplace_back(w.data(), out, in, in);
        step.bias = n.bias.empty() ? std::vector<float>(static_cast<std::size_t>(out), 0.0f) : to_float(n.bias);
        if (step.bias.size() != static_cast<std::size_t>(out)) throw InternalError(where() + ": bias size");
        break;
      }
      case OpKind::batch_norm: {
        // As PyTorch's CPU inference batch norm: per channel alpha = weight / sqrt(var + eps),
        // beta = bias - mean * alpha (in float), then x * alpha + beta.
        const auto mean = to_float(n.running_mean), var = to_float(n.running_var);
        const auto weight = to_float(n.weight), bias = to_float(n.bias);
        const std::size_t channels = static_cast<std::size_t>(n.dims.at(0));
        if (mean.size() != channels || var.size() != channels || (!weight.empty() && weight.size() != channels) ||
            (!bias.empty() && bias.size() != channels))
          throw InternalError(where() + ": statistics of the wrong size");
        step.scale.resize(channels);
        step.bias.resize(channels);
        const float eps = static_cast<float>(n.eps);
        for (std::size_t c = 0; c < channels; ++c) {
          const float invstd = 1.0f / std::sqrt(var[c] + eps);
          step.scale[c] = weight.empty() ? invstd : invstd * weight[c];
          step.bias[c] = (bias.empty() ? 0.0f : bias[c]) - mean[c] * step.scale[c];
        }
        break;
      }
      case OpKind::dropout: step.dropout_ordinal = ordinal++; break;
      default: break;
    }
  }
  // The requested outputs: element k of the concatenation of the output tensors, flattened.
  std::vector<std::pair<int, std::size_t>> flat;  // node, element
  for (const auto& named : graph.named_outputs()) {
    const std::size_t node = static_cast<std::size_t>(named.node);
    impl_->steps.at(node).last_use = static_cast<int>(graph.nodes.size());
    for (std::size_t e = 0; e < impl_->steps[node].size; ++e) flat.emplace_back(named.node, e);
  }
  for (int o : outputs_) {
    if (o < 0 || o >= static_cast<int>(flat.size())) throw InternalError("GraphKernelNetwork: output out of range");
    impl_->picks.push_back({flat[static_cast<std::size_t>(o)].first, flat[static_cast<std::size_t>(o)].second});
  }
  impl_->values.resize(graph.nodes.size());
}

GraphKernelNetwork::~GraphKernelNetwork() = default;

std::string GraphKernelNetwork::description() const {
  return "cpu, deepmr kernels (" + isa_name(active_isa()) + ", graph)";
}

void GraphKernelNetwork::forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) {
  const Graph& graph = *impl_->graph;
  const std::size_t count = graph.nodes.size();
  const int threads = compute_threads();
  std::vector<const float*> data(count, nullptr);
  data[0] = inputs;  // batch x channels x length: the input node's layout already
  for (std::size_t i = 1; i < count; ++i) {
    impl_->evaluate(i, data, batch, masks, threads);
    data[i] = impl_->values[i].data();
    for (int id : graph.nodes[i].inputs)
      if (id > 0 && impl_->steps[static_cast<std::size_t>(id)].last_use == static_cast<int>(i))
        impl_->release(static_cast<std::size_t>(id));
    if (impl_->steps[i].last_use < 0) impl_->release(i);  // read by nothing
  }
  const std::size_t n = impl_->picks.size();
  for (int b = 0; b < batch; ++b)
    for (std::size_t k = 0; k < n; ++k) {
      const auto& pick = impl_->picks[k];
      const std::size_t node = static_cast<std::size_t>(pick.node);
      out[static_cast<std::size_t>(b) * n + k] = data[node][static_cast<std::size_t>(b) * impl_->steps[node].size + pick.element];
    }
  for (std::size_t i = 1; i < count; ++i) impl_->release(i);
}

void GraphKernelNetwork::Impl::evaluate(std::size_t index, const std::vector<const float*>& data, int batch,
                                        const DropoutMasks* masks, int threads) {
  const GraphNode& n = graph->nodes[index];
  const Step& step = steps[index];
  const std::size_t in_id = n.inputs.empty() ? 0 : static_cast<std::size_t>(n.inputs.front());
  const float* x = data[in_id];
  const auto& in_dims = graph->nodes[in_id].dims;
  const std::size_t in_size = steps[in_id].size, size = step.size;
  const std::size_t total = size * static_cast<std::size_t>(batch);
  Buffer& y_vector = acquire(index, total);
  float* y = y_vector.data();
  const int rows = batch;  // parallel loops run over examples

  // y[j] = f(x[j]) for every value.
  auto pointwise = [&](auto f) {
#pragma omp parallel for num_threads(threads)
    for (int b = 0; b < rows; ++b)
      for (std::size_t j = static_cast<std::size_t>(b) * size; j < static_cast<std::size_t>(b + 1) * size; ++j)
        y[j] = f(x[j]);
  };

  switch (n.kind) {
    case OpKind::input: throw InternalError("GraphKernelNetwork: an input node inside the graph");
    case OpKind::conv:
    case OpKind::conv_transpose: {
      const bool transposed = n.kind == OpKind::conv_transpose;
      const int cin = static_cast<int>(in_dims[0]), width = static_cast<int>(in_dims[1]);
      const int cout = static_cast<int>(n.dims[0]), out_width = static_cast<int>(n.dims[1]);
      const int cin_g = cin / n.groups, cout_g = cout / n.groups;
      const int columns = batch * out_width;
      if (!step.direct.empty()) {
        // A NaN or infinite weight: the taps that fall into the padding (or, transposed, between
        // the input's columns) must not multiply it (0 x Inf is NaN), as PyTorch's convolutions
        // skip them. The same chain as the product's, over the taps that read the input only.
        const int taps = n.kernel, row_size = taps * cin_g;
#pragma omp parallel for num_threads(threads)
        for (int b = 0; b < rows; ++b)
          for (int o = 0; o < cout; ++o) {
            const int g = o / cout_g;
            const float* w = step.direct.data() + static_cast<std::size_t>(o) * row_size;
            for (int t = 0; t < out_width; ++t) {
              float acc = 0.0f;
              for (int tap = 0; tap < taps; ++tap) {
                int position = -1;
                if (!transposed) {
                  position = t * n.stride + tap * n.dilation - n.pad_left;
                } else {
                  const int shifted = t + n.pad_left - tap * n.dilation;
                  if (shifted >= 0 && shifted % n.stride == 0) position = shifted / n.stride;
                }
                if (position < 0 || position >= width) continue;
                for (int c = 0; c < cin_g; ++c)
                  acc = std::fma(w[tap * cin_g + c],
                                 x[(static_cast<std::size_t>(b) * cin + g * cin_g + c) * width + position], acc);
              }
              y[(static_cast<std::size_t>(b) * cout + o) * out_width + t] = acc + step.bias[static_cast<std::size_t>(o)];
            }
          }
        return;
      }
      product.resize(static_cast<std::size_t>(cout) * columns);
      for (int g = 0; g < n.groups; ++g) {
        const ConvSource source(x, cin, width, batch, g * cin_g, cin_g, out_width, n.stride, n.dilation, n.pad_left,
                                transposed);
        gemm(step.weights[static_cast<std::size_t>(g)], source, columns,
             product.data() + static_cast<std::size_t>(g) * cout_g * columns, columns);
      }
      // product[o][b][w] -> y[b][o][w], + bias
      const float* p = product.data();
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (int o = 0; o < cout; ++o) {
          const float bias = step.bias[static_cast<std::size_t>(o)];
          const float* from = p + static_cast<std::size_t>(o) * columns + static_cast<std::size_t>(b) * out_width;
          float* to = y + (static_cast<std::size_t>(b) * cout + o) * out_width;
          for (int w = 0; w < out_width; ++w) to[w] = from[w] + bias;
        }
      return;
    }
    case OpKind::linear: {
      const int in = static_cast<int>(in_dims[0]), out = static_cast<int>(n.dims[0]);
      product.resize(static_cast<std::size_t>(out) * batch);
      gemm(step.weights.front(), RowsSource(x, batch, in), batch, product.data(), batch);
      for (int b = 0; b < batch; ++b)
        for (int o = 0; o < out; ++o)
          y[static_cast<std::size_t>(b) * out + o] =
              product[static_cast<std::size_t>(o) * batch + b] + step.bias[static_cast<std::size_t>(o)];
      return;
    }
    case OpKind::max_pool:
    case OpKind::avg_pool: {
      const bool is_max = n.kind == OpKind::max_pool;
      const int channels = static_cast<int>(in_dims[0]), width = static_cast<int>(in_dims[1]);
      const int out_width = static_cast<int>(n.dims[1]);
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (int c = 0; c < channels; ++c) {
          const float* in = x + (static_cast<std::size_t>(b) * channels + c) * width;
          float* o = y + (static_cast<std::size_t>(b) * channels + c) * out_width;
          for (int i = 0; i < out_width; ++i) {
            const int start = i * n.stride - n.pad_left;
            if (is_max) {
              // PyTorch's max pooling: padding never wins, NaN does.
              float acc = -kInf;
              for (int j = 0; j < n.kernel; ++j) {
                const int position = start + j * n.dilation;
                if (position >= 0 && position < width) acc = detail::nan_max(acc, in[position]);
              }
              o[i] = acc;
            } else {
              // PyTorch's average pooling: the divisor counts the padding (count_include_pad) up to
              // the padded end, else only the input's columns.
              const int end = std::min(start + n.kernel, width + n.pad_left);
              const int pool = end - start;
              const int first = std::max(start, 0), last = std::min(end, width);
              double sum = 0;
              for (int position = first; position < last; ++position) sum += in[position];
              const int divisor = n.count_include_pad ? pool : last - first;
              o[i] = static_cast<float>(sum / divisor);
            }
          }
        }
      return;
    }
    case OpKind::mean:
    case OpKind::max:
    case OpKind::logsumexp: {
      const AxisView v = axis_view(in_dims, n.axis);
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (std::size_t outer = 0; outer < v.outer; ++outer)
          for (std::size_t inner = 0; inner < v.inner; ++inner) {
            const float* in = x + static_cast<std::size_t>(b) * in_size + outer * v.count * v.inner + inner;
            float& result = y[static_cast<std::size_t>(b) * size + outer * v.inner + inner];
            float largest = -kInf;
            if (n.kind != OpKind::mean)
              for (std::size_t j = 0; j < v.count; ++j) largest = detail::nan_max(largest, in[j * v.inner]);
            if (n.kind == OpKind::max) {
              result = largest;
            } else if (n.kind == OpKind::mean) {
              double sum = 0;
              for (std::size_t j = 0; j < v.count; ++j) sum += in[j * v.inner];
              result = static_cast<float>(sum / static_cast<double>(v.count));
            } else {
              // PyTorch: max + log(sum exp(x - max)), the shift 0 where the max is infinite (all
              // -inf gives -inf, a +inf gives +inf); a NaN max gives NaN.
              const double shift = std::isinf(largest) ? 0.0 : static_cast<double>(largest);
              double sum = 0;
              for (std::size_t j = 0; j < v.count; ++j) sum += std::exp(static_cast<double>(in[j * v.inner]) - shift);
              result = static_cast<float>(std::log(sum) + shift);
            }
          }
      return;
    }
    case OpKind::softmax:
    case OpKind::log_softmax: {
      const AxisView v = axis_view(in_dims, n.axis);
      const bool log = n.kind == OpKind::log_softmax;
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (std::size_t outer = 0; outer < v.outer; ++outer)
          for (std::size_t inner = 0; inner < v.inner; ++inner) {
            const std::size_t first = static_cast<std::size_t>(b) * size + outer * v.count * v.inner + inner;
            const float* in = x + first;
            float* o = y + first;
            float largest = -kInf;
            for (std::size_t j = 0; j < v.count; ++j) largest = detail::nan_max(largest, in[j * v.inner]);
            const double m = largest;
            double sum = 0;
            for (std::size_t j = 0; j < v.count; ++j) sum += std::exp(static_cast<double>(in[j * v.inner]) - m);
            const double log_sum = std::log(sum);
            for (std::size_t j = 0; j < v.count; ++j) {
              const double shifted = static_cast<double>(in[j * v.inner]) - m;
              o[j * v.inner] = static_cast<float>(log ? shifted - log_sum : std::exp(shifted) / sum);
            }
          }
      return;
    }
    case OpKind::relu: return pointwise([](float a) { return detail::relu(a); });
    case OpKind::elu: {
      const float alpha = static_cast<float>(n.alpha), scale = static_cast<float>(n.scale),
                  input_scale = static_cast<float>(n.input_scale);
      return pointwise([=](float a) { return detail::elu(a, alpha, scale, input_scale); });
    }
    case OpKind::gelu: {
      const bool tanh_form = n.approximate_tanh;
      return pointwise([=](float a) { return detail::gelu(a, tanh_form); });
    }
    case OpKind::softplus: {
      const float beta = static_cast<float>(n.beta), threshold = static_cast<float>(n.threshold);
      return pointwise([=](float a) { return detail::softplus(a, beta, threshold); });
    }
    case OpKind::sigmoid: return pointwise([](float a) { return detail::sigmoid(a); });
    case OpKind::tanh: return pointwise([](float a) { return std::tanh(a); });
    case OpKind::exp: return pointwise([](float a) { return std::exp(a); });
    case OpKind::threshold: {
      const float threshold = static_cast<float>(n.threshold), value = static_cast<float>(n.value);
      return pointwise([=](float a) { return a <= threshold ? value : a; });
    }
    case OpKind::batch_norm: {
      const std::size_t channels = step.scale.size(), inner = size / channels;
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
          const float alpha = step.scale[c], beta = step.bias[c];
          const std::size_t first = static_cast<std::size_t>(b) * size + c * inner;
          for (std::size_t j = first; j < first + inner; ++j) y[j] = x[j] * alpha + beta;
        }
      return;
    }
    case OpKind::add_constant:
    case OpKind::sub_constant: {
      const float term = static_cast<float>(n.alpha) * static_cast<float>(n.constant);
      if (n.kind == OpKind::add_constant) return pointwise([=](float a) { return a + term; });
      return pointwise([=](float a) { return a - term; });
    }
    case OpKind::mul_constant: {
      const float c = static_cast<float>(n.constant);
      return pointwise([=](float a) { return a * c; });
    }
    case OpKind::div_constant: {
      const float c = static_cast<float>(n.constant);
      return pointwise([=](float a) { return a / c; });
    }
    case OpKind::add:
    case OpKind::sub: {
      const float* other = data[static_cast<std::size_t>(n.inputs.at(1))];
      const float alpha = static_cast<float>(n.kind == OpKind::sub ? -n.alpha : n.alpha);
      const bool plain = n.alpha == 1.0;
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (std::size_t j = static_cast<std::size_t>(b) * size; j < static_cast<std::size_t>(b + 1) * size; ++j) {
          if (plain)
            y[j] = n.kind == OpKind::sub ? x[j] - other[j] : x[j] + other[j];
          else
            y[j] = x[j] + alpha * other[j];
        }
      return;
    }
    case OpKind::concat: {
      // Per example: `outer` blocks, each the inputs' blocks in order.
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b) {
        float* to = y + static_cast<std::size_t>(b) * size;
        const AxisView first = axis_view(graph->nodes[in_id].dims, n.axis);
        for (std::size_t outer = 0; outer < first.outer; ++outer)
          for (int id : n.inputs) {
            const auto& dims = graph->nodes[static_cast<std::size_t>(id)].dims;
            const AxisView v = axis_view(dims, n.axis);
            const std::size_t block = v.count * v.inner;
            const float* from = data[static_cast<std::size_t>(id)] +
                                static_cast<std::size_t>(b) * steps[static_cast<std::size_t>(id)].size + outer * block;
            to = std::copy(from, from + block, to);
          }
      }
      return;
    }
    case OpKind::crop: {
      const std::size_t channels = static_cast<std::size_t>(in_dims[0]), width = static_cast<std::size_t>(in_dims[1]);
      const std::size_t out_width = static_cast<std::size_t>(n.dims[1]), start = static_cast<std::size_t>(n.start);
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
          const float* from = x + (static_cast<std::size_t>(b) * channels + c) * width + start;
          std::copy(from, from + out_width, y + (static_cast<std::size_t>(b) * channels + c) * out_width);
        }
      return;
    }
    case OpKind::flatten: std::copy(x, x + total, y); return;  // batch-major values are flat already
    case OpKind::dropout: {
      if (!masks) {
        std::copy(x, x + total, y);
        return;
      }
      const auto& mask = masks->layers.at(static_cast<std::size_t>(step.dropout_ordinal));
      if (mask.size() != size) throw InternalError("GraphKernelNetwork: a dropout mask of the wrong size");
      const float* m = mask.data();
#pragma omp parallel for num_threads(threads)
      for (int b = 0; b < rows; ++b)
        for (std::size_t j = 0; j < size; ++j) {
          const std::size_t at = static_cast<std::size_t>(b) * size + j;
          y[at] = x[at] * m[j];
        }
      return;
    }
  }
  throw InternalError("GraphKernelNetwork: unknown op " + std::to_string(static_cast<int>(n.kind)));
}

}  // namespace deepmr::model
