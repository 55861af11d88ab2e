#include "deepmr/model/torchscript_graph_reader.hpp"

#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/script.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <variant>

#include "deepmr/common/error.hpp"
#include "torchscript_module_graph.hpp"

namespace deepmr::model {
namespace {

using torch::jit::Block;
using torch::jit::Module;
using torch::jit::Node;
using torch::jit::Value;

// The batch size in static integers (aten::size(x, 0)): unknown, and never equal to a real size.
constexpr std::int64_t kBatch = std::numeric_limits<std::int64_t>::min() / 2;
constexpr std::int64_t kOpenEnd = std::numeric_limits<std::int64_t>::max() / 2;  // slices: "to the end"

// What the walk knows of a TorchScript value: a tensor (a graph node's output) or a static value.
struct TensorInfo {
  int node = 0;
  std::vector<std::int64_t> dims;  // per example, as graph.hpp
  bool height = false;             // PyTorch's tensor has the height axis: N x C x 1 x L
  std::int64_t torch_rank() const { return 1 + static_cast<std::int64_t>(dims.size()) + (height ? 1 : 0); }
};
using Info = std::variant<std::monostate, TensorInfo, c10::IValue>;

std::string base_name(const std::string& file) { return file.substr(file.find_last_of('/') + 1); }

// The original Python file and line of a source range (from the archive's debug records).
struct Line {
  std::string file;
  std::size_t line = 0;
  bool empty() const { return file.empty(); }
  bool in_torch() const { return file.find("/torch/") != std::string::npos; }
  std::string text() const { return base_name(file) + ":" + std::to_string(line); }
};

Line line_of(const torch::jit::SourceRange& range) {
  auto generated = range.findSourceRangeThatGenerated();
  if (!generated) return {};
  auto flc = generated->file_line_col();
  if (!flc || std::get<0>(*flc).empty()) return {};
  return {std::get<0>(*flc), std::get<1>(*flc)};
}

// A parameter tensor as stored (float32 or float64), optionally dropping PyTorch's height axis.
GraphTensor graph_tensor(const at::Tensor& tensor, std::optional<int> drop_axis = std::nullopt) {
  GraphTensor out;
  auto t = tensor.detach().to(at::kCPU).contiguous();
  for (std::int64_t d = 0; d < t.dim(); ++d)
    if (!drop_axis || d != *drop_axis) out.shape.push_back(t.size(d));
  if (t.scalar_type() == at::kDouble) {
    out.float64 = true;
    const double* data = t.data_ptr<double>();
    out.f64.assign(data, data + t.numel());
  } else {
    auto f = t.to(at::kFloat);  // float32 as stored (the caller refuses other types)
    const float* data = f.data_ptr<float>();
    out.f32.assign(data, data + f.numel());
  }
  return out;
}

std::vector<std::int64_t> int_list(const c10::IValue& v) {
  if (v.isInt()) return {v.toInt()};
  return v.toIntVector();
}

class Reader {
 public:
  Reader(std::string file, std::string prefix, Graph& graph)
      : file_(std::move(file)), prefix_(std::move(prefix)), graph_(graph) {}

  void read(const std::shared_ptr<torch::jit::Graph>& g, bool conv2d_layout, int channels, int length) {
    if (g->inputs().size() != 2)
      throw ModelError(file_ + ": the model's forward takes " + std::to_string(g->inputs().size() - 1) +
                       " inputs; deepmr reads models of one input (one-hot DNA)");
    GraphNode input;
    input.kind = OpKind::input;
    input.dims = {channels, length};
    graph_.nodes.push_back(input);
    env_[g->inputs()[1]] = TensorInfo{0, {channels, length}, conv2d_layout};
    walk(g->block());
    if (g->outputs().size() != 1) throw ModelError(file_ + ": the model's forward returns several values");
    graph_.output = output_of(g->outputs()[0], nullptr);
  }

 private:
  // ---- where a node comes from ----------------------------------------------------------------
  struct Origin {
    std::string path, type, line;  // type: the innermost module's class ("LSTM"), if known
  };

  Origin origin(const Node* n) const {
    Origin o;
    // A weight-bearing op: the weight constant's name is the full attribute path
    // ("self.rconvs.0.weight"); the call stack names a ModuleList element only by its index.
    const std::string kind = n->kind().toQualString();
    static const std::vector<std::string> weighted = {
        "aten::conv1d",           "aten::conv2d", "aten::_convolution", "aten::_convolution_mode",
        "aten::conv_transpose1d", "aten::linear", "aten::batch_norm"};
    if (std::find(weighted.begin(), weighted.end(), kind) != weighted.end())
      for (std::size_t i : {std::size_t{1}, std::size_t{3}}) {
        if (i >= n->inputs().size()) continue;
        const Value* v = n->input(i);
        const std::string name = v->debugName();
        if (v->node()->kind() != c10::prim::Constant || name.rfind("self.", 0) != 0) continue;
        for (const char* leaf : {".weight", ".bias", ".running_mean", ".running_var"}) {
          const auto at = name.rfind(leaf);
          if (at != std::string::npos && at > 5) {
            o.path = name.substr(5, at - 5);
            break;
          }
        }
        if (!o.path.empty()) break;
      }
    std::vector<Line> lines;  // outermost first
    if (auto stack = n->callstack()) {
      std::string chain;
      // Only the instance info and the call sites: an entry's Function* may dangle after freezing.
      for (const auto& entry : (*stack)->vec()) {
        const auto& info = std::get<2>(entry);
        if (info && info->instance_name() != "SELF") chain += (chain.empty() ? "" : ".") + info->instance_name();
        if (info && info->class_type() && info->class_type()->name()) o.type = info->class_type()->name()->name();
        lines.push_back(line_of(std::get<1>(entry)));
      }
      if (o.path.empty()) o.path = chain;
    }
    lines.push_back(line_of(n->sourceRange()));
    // The innermost frame outside PyTorch's own files, else the innermost frame at all.
    for (auto it = lines.rbegin(); it != lines.rend() && o.line.empty(); ++it)
      if (!it->empty() && !it->in_torch()) o.line = it->text();
    for (auto it = lines.rbegin(); it != lines.rend() && o.line.empty(); ++it)
      if (!it->empty()) o.line = it->text();
    if (!prefix_.empty()) o.path = o.path.empty() ? prefix_ : prefix_ + "." + o.path;
    return o;
  }

  std::string where(const Node* n) const {
    const auto o = origin(n);
    std::string text = " in submodule '" + (o.path.empty() ? std::string("(top)") : o.path) + "'";
    if (!o.type.empty() && !o.path.empty()) text += " of type " + o.type;
    return text + " (" + (o.line.empty() ? std::string("no source line in the file") : o.line) + ")";
  }

  [[noreturn]] void unsupported(const Node* n) const {
    throw ModelError(file_ + ": unsupported op " + n->kind().toQualString() + where(n) +
                     "; deepmr reads the ops listed in docs/models.md (Graphs): write this part of the model with "
                     "them, or ask for the op");
  }
  [[noreturn]] void refuse(const Node* n, const std::string& why) const {
    throw ModelError(file_ + ": op " + n->kind().toQualString() + where(n) + " " + why);
  }

  // ---- arguments ------------------------------------------------------------------------------
  c10::IValue value(const Node* n, std::size_t i) const {
    const Value* v = n->input(i);
    if (auto c = torch::jit::toIValue(v)) return *c;
    auto it = env_.find(v);
    if (it != env_.end() && std::holds_alternative<c10::IValue>(it->second)) return std::get<c10::IValue>(it->second);
    refuse(n, "has an argument (" + std::to_string(i) +
                  ") that is not a constant; deepmr reads graphs whose "
                  "hyperparameters are fixed (see docs/models.md)");
  }
  bool is_tensor(const Node* n, std::size_t i) const {
    auto it = env_.find(n->input(i));
    return it != env_.end() && std::holds_alternative<TensorInfo>(it->second);
  }
  const TensorInfo& tensor(const Node* n, std::size_t i) const {
    auto it = env_.find(n->input(i));
    if (it == env_.end() || !std::holds_alternative<TensorInfo>(it->second))
      refuse(n, "reads a value (argument " + std::to_string(i) + ") that is not a tensor deepmr computes");
    return std::get<TensorInfo>(it->second);
  }
  double number(const Node* n, std::size_t i) const {
    const auto v = value(n, i);
    if (v.isDouble()) return v.toDouble();
    if (v.isInt()) return static_cast<double>(v.toInt());
    if (v.isTensor() && v.toTensor().dim() == 0) return v.toTensor().item<double>();  // traced scalars
    refuse(n, "has an argument (" + std::to_string(i) + ") that is not a number");
  }
  std::int64_t integer(const Node* n, std::size_t i) const {
    const auto v = value(n, i);
    if (!v.isInt()) refuse(n, "has an argument (" + std::to_string(i) + ") that is not an integer");
    return v.toInt();
  }
  bool flag(const Node* n, std::size_t i) const {
    const auto v = value(n, i);
    if (!v.isBool()) refuse(n, "has an argument (" + std::to_string(i) + ") that is not a boolean");
    return v.toBool();
  }
  std::vector<std::int64_t> ints(const Node* n, std::size_t i) const {
    const auto v = value(n, i);
    if (!v.isInt() && !v.isIntList())
      refuse(n, "has an argument (" + std::to_string(i) + ") that is not a list of integers");
    return int_list(v);
  }
  at::Tensor parameter(const Node* n, std::size_t i) const {
    auto c = torch::jit::toIValue(n->input(i));
    if (!c || !c->isTensor())
      refuse(n, "has a parameter (argument " + std::to_string(i) + ") that is not a constant tensor");
    const auto& t = c->toTensor();
    if (t.scalar_type() != at::kFloat && t.scalar_type() != at::kDouble)
      refuse(n, "has a " + std::string(c10::toString(t.scalar_type())) +
                    " parameter; deepmr reads float32 or float64 models");
    return t;
  }
  std::optional<at::Tensor> optional_parameter(const Node* n, std::size_t i) const {
    auto c = torch::jit::toIValue(n->input(i));
    if (c && c->isNone()) return std::nullopt;
    return parameter(n, i);
  }

  // A PyTorch axis of a tensor (negative counts from the end) as the per-example axis of graph.hpp;
  // the batch and the height axis are refused.
  int axis_of(const Node* n, const TensorInfo& x, std::int64_t torch_axis) const {
    const std::int64_t rank = x.torch_rank();
    if (torch_axis < 0) torch_axis += rank;
    if (torch_axis <= 0 || torch_axis >= rank)
      refuse(n, "works along axis " + std::to_string(torch_axis) +
                    " (the batch, or none); deepmr reads ops along channels or the length");
    if (x.height) {
      if (torch_axis == 2)
        refuse(n, "works along the height axis of a conv2d-layout tensor, which deepmr does not read");
      if (torch_axis == 3) return 1;
    }
    return static_cast<int>(torch_axis - 1);
  }

  // ---- building nodes -------------------------------------------------------------------------
  GraphNode node_for(const Node* n, OpKind kind, std::vector<int> inputs) const {
    GraphNode g;
    g.kind = kind;
    g.inputs = std::move(inputs);
    g.torch_op = n->kind().toQualString();
    const auto o = origin(n);
    g.module_path = o.path;
    g.source_line = o.line;
    return g;
  }
  void emit(const Node* n, GraphNode g, bool height) {
    const int id = static_cast<int>(graph_.nodes.size());
    env_[n->output(0)] = TensorInfo{id, g.dims, height};
    graph_.nodes.push_back(std::move(g));
  }
  void alias(const Node* n, const TensorInfo& x) { env_[n->output(0)] = x; }
  void static_value(const Node* n, c10::IValue v) { env_[n->output(0)] = std::move(v); }

  static std::int64_t window_out(std::int64_t length, std::int64_t kernel, std::int64_t stride, std::int64_t pad_total,
                                 std::int64_t dilation) {
    const std::int64_t span = length + pad_total - dilation * (kernel - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
  }

  void convolution(const Node* n, const std::string& k) {
    const TensorInfo& x = tensor(n, 0);
    const at::Tensor w = parameter(n, 1);
    const auto b = optional_parameter(n, 2);
    bool transposed = k == "aten::conv_transpose1d";
    if (k == "aten::_convolution") transposed = flag(n, 6);
    std::vector<std::int64_t> stride = ints(n, 3), dilation, output_padding{0};
    std::int64_t groups = 1;
    const c10::IValue padding = value(n, 4);
    if (k == "aten::_convolution") {
      dilation = ints(n, 5);
      output_padding = ints(n, 7);
      groups = integer(n, 8);
    } else if (k == "aten::conv_transpose1d") {
      output_padding = ints(n, 5);
      groups = integer(n, 6);
      dilation = ints(n, 7);
    } else {
      dilation = ints(n, 5);
      groups = integer(n, 6);
    }
    const bool two_d = w.dim() == 4;
    if (w.dim() != 3 && !two_d)
      refuse(n,
             "has a " + std::to_string(w.dim()) + "-d weight; deepmr reads 1-d convolutions and 2-d ones of height 1");
    if (two_d != x.height) refuse(n, "mixes the conv1d and conv2d layouts (input and weight ranks differ)");
    if (two_d) {
      if (w.size(2) != 1)
        refuse(n, "has a kernel of height " + std::to_string(w.size(2)) + "; deepmr reads height-1 kernels");
      if (!padding.isString() && int_list(padding).front() != 0)
        refuse(n, "pads the height axis; deepmr reads height-1 inputs");
      if (transposed) refuse(n, "is a 2-d transposed convolution, which deepmr does not read");
    }
    if (x.dims.size() != 2) refuse(n, "reads a tensor that is not channels x length");
    const std::int64_t kernel = w.size(-1), s = stride.back(), d = dilation.back();
    const std::int64_t cin = transposed ? w.size(0) : w.size(1) * groups;
    const std::int64_t cout = transposed ? w.size(1) * groups : w.size(0);
    if (x.dims[0] != cin)
      refuse(n, "expects " + std::to_string(cin) + " input channels but gets " + std::to_string(x.dims[0]) +
                    "; check the model's input (one-hot DNA has 4 channels)");
    GraphNode g = node_for(n, transposed ? OpKind::conv_transpose : OpKind::conv, {x.node});
    g.kernel = static_cast<int>(kernel);
    g.stride = static_cast<int>(s);
    g.dilation = static_cast<int>(d);
    g.groups = static_cast<int>(groups);
    g.output_padding = static_cast<int>(output_padding.back());
    const std::int64_t length = x.dims[1];
    std::int64_t out_length = 0;
    if (padding.isString()) {
      const std::string mode = padding.toStringRef();
      if (mode == "same") {
        if (s != 1) refuse(n, "has padding 'same' with stride " + std::to_string(s) + ", which PyTorch refuses");
        const std::int64_t total = d * (kernel - 1);
        g.pad_left = static_cast<int>(total / 2);
        g.pad_right = static_cast<int>(total - total / 2);
      } else if (mode != "valid") {
        refuse(n, "has padding '" + mode + "'; deepmr reads numbers, 'same' and 'valid'");
      }
      out_length = window_out(length, kernel, s, g.pad_left + g.pad_right, d);
    } else {
      const std::int64_t p = int_list(padding).back();
      g.pad_left = g.pad_right = static_cast<int>(p);
      out_length = transposed ? (length - 1) * s - 2 * p + d * (kernel - 1) + g.output_padding + 1
                              : window_out(length, kernel, s, 2 * p, d);
    }
    if (out_length <= 0)
      refuse(n, "leaves no positions of an input of length " + std::to_string(length) + "; give a longer input");
    g.dims = {cout, out_length};
    g.weight = graph_tensor(w, two_d ? std::optional<int>(2) : std::nullopt);
    if (b) g.bias = graph_tensor(*b);
    emit(n, std::move(g), x.height);
  }

  void pool(const Node* n, const std::string& k) {
    const TensorInfo& x = tensor(n, 0);
    const bool max = k.find("max") != std::string::npos, two_d = k.back() == 'd' && k[k.size() - 2] == '2';
    if (two_d != x.height) refuse(n, "mixes the 1-d and 2-d layouts");
    if (x.dims.size() != 2) refuse(n, "reads a tensor that is not channels x length");
    const auto kernel = ints(n, 1), padding = ints(n, 3);
    auto stride = ints(n, 2);
    if (stride.empty()) stride = kernel;  // PyTorch: stride defaults to the kernel
    if (two_d && (kernel.front() != 1 || padding.front() != 0))
      refuse(n, "pools along the height axis; deepmr reads height-1 pooling");
    GraphNode g = node_for(n, max ? OpKind::max_pool : OpKind::avg_pool, {x.node});
    g.kernel = static_cast<int>(kernel.back());
    g.stride = static_cast<int>(stride.back());
    g.pad_left = g.pad_right = static_cast<int>(padding.back());
    bool ceil = false;
    if (max) {
      g.dilation = static_cast<int>(ints(n, 4).back());
      ceil = flag(n, 5);
    } else {
      ceil = flag(n, 4);
      g.count_include_pad = flag(n, 5);
      if (two_d && !value(n, 6).isNone()) refuse(n, "has a divisor_override, which deepmr does not read");
    }
    if (ceil) refuse(n, "uses ceil_mode, which deepmr does not read yet; use ceil_mode=False");
    const std::int64_t out_length = window_out(x.dims[1], g.kernel, g.stride, 2 * g.pad_left, g.dilation);
    if (out_length <= 0) refuse(n, "leaves no positions of an input of length " + std::to_string(x.dims[1]));
    g.dims = {x.dims[0], out_length};
    emit(n, std::move(g), x.height);
  }

  void reduction(const Node* n, OpKind kind) {
    const TensorInfo& x = tensor(n, 0);
    if (x.height) refuse(n, "reduces a conv2d-layout tensor; squeeze the height axis first");
    std::vector<std::int64_t> axes = ints(n, 1);
    if (axes.size() != 1) refuse(n, "reduces several axes at once; deepmr reads one axis");
    const bool keepdim = flag(n, 2);
    if (n->kind().toQualString() == std::string("aten::mean") && !value(n, 3).isNone())
      refuse(n, "asks for a dtype; deepmr reads a mean in the input's type");
    if (n->outputs().size() == 2 && n->output(1)->hasUses())
      refuse(n, "uses the indices of a maximum, which deepmr does not compute");
    GraphNode g = node_for(n, kind, {x.node});
    g.axis = axis_of(n, x, axes[0]);
    g.keepdim = keepdim;
    g.dims = x.dims;
    if (keepdim)
      g.dims[g.axis] = 1;
    else
      g.dims.erase(g.dims.begin() + g.axis);
    if (g.dims.empty()) refuse(n, "reduces every axis of an example; deepmr reads reductions that keep one");
    emit(n, std::move(g), false);
  }

  void pointwise(const Node* n, OpKind kind) {
    const TensorInfo& x = tensor(n, 0);
    GraphNode g = node_for(n, kind, {x.node});
    g.dims = x.dims;
    switch (kind) {
      case OpKind::elu:
        g.alpha = number(n, 1);
        g.scale = number(n, 2);
        g.input_scale = number(n, 3);
        break;
      case OpKind::gelu: {
        const auto a = value(n, 1);
        if (!a.isString() || (a.toStringRef() != "none" && a.toStringRef() != "tanh"))
          refuse(n, "has an approximation other than 'none' or 'tanh'");
        g.approximate_tanh = a.toStringRef() == "tanh";
        break;
      }
      case OpKind::softplus:
        g.beta = number(n, 1);
        g.threshold = number(n, 2);
        break;
      case OpKind::threshold:
        g.threshold = number(n, 1);
        g.value = number(n, 2);
        break;
      case OpKind::dropout:
        g.p = number(n, 1);
        if (flag(n, 2)) refuse(n, "is in training mode; call model.eval() before saving it");
        break;
      case OpKind::mul_constant:  // aten::neg
        g.constant = -1;
        break;
      default: break;
    }
    emit(n, std::move(g), x.height);
  }

  void batch_norm(const Node* n) {
    const TensorInfo& x = tensor(n, 0);
    if (flag(n, 5)) refuse(n, "is in training mode; call model.eval() before saving it");
    const auto mean = optional_parameter(n, 3), var = optional_parameter(n, 4);
    if (!mean || !var) refuse(n, "has no running statistics (track_running_stats=False), which deepmr does not read");
    if (mean->numel() != x.dims[0])
      refuse(n, "has " + std::to_string(mean->numel()) + " channels but reads " + std::to_string(x.dims[0]));
    GraphNode g = node_for(n, OpKind::batch_norm, {x.node});
    g.dims = x.dims;
    g.eps = number(n, 7);
    if (auto w = optional_parameter(n, 1)) g.weight = graph_tensor(*w);
    if (auto b = optional_parameter(n, 2)) g.bias = graph_tensor(*b);
    g.running_mean = graph_tensor(*mean);
    g.running_var = graph_tensor(*var);
    emit(n, std::move(g), x.height);
  }

  // aten::add/sub/mul/div: two tensors of one shape (add, sub), or a tensor and a constant.
  void arithmetic(const Node* n, const std::string& k) {
    const bool additive = k == "aten::add" || k == "aten::sub";
    std::size_t t = 0, c = 1;
    if (!is_tensor(n, 0) && is_tensor(n, 1) && (k == "aten::add" || k == "aten::mul")) std::swap(t, c);  // 2 * x
    const TensorInfo& x = tensor(n, t);
    if (k == "aten::div" && n->inputs().size() > 2 && !value(n, 2).isNone())
      refuse(n, "has a rounding mode, which deepmr does not read");
    const double alpha = additive && n->inputs().size() > 2 ? number(n, 2) : 1.0;
    if (is_tensor(n, c)) {
      const TensorInfo& y = tensor(n, c);
      if (!additive) refuse(n, "multiplies or divides two computed tensors, which deepmr does not read");
      if (y.dims != x.dims || y.height != x.height)
        refuse(n, "adds tensors of different shapes (broadcasting), which deepmr does not read");
      GraphNode g = node_for(n, k == "aten::add" ? OpKind::add : OpKind::sub, {x.node, y.node});
      g.alpha = alpha;
      g.dims = x.dims;
      return emit(n, std::move(g), x.height);
    }
    const auto v = value(n, c);
    if (v.isTensor() && v.toTensor().dim() != 0)
      refuse(n, "combines a tensor with a constant tensor (not a number), which deepmr does not read yet");
    const OpKind kind = k == "aten::add"   ? OpKind::add_constant
                        : k == "aten::sub" ? OpKind::sub_constant
                        : k == "aten::mul" ? OpKind::mul_constant
                                           : OpKind::div_constant;
    GraphNode g = node_for(n, kind, {x.node});
    g.constant = number(n, c);
    g.alpha = alpha;
    g.dims = x.dims;
    emit(n, std::move(g), x.height);
  }

  void concat(const Node* n) {
    const Node* list = n->input(0)->node();
    if (list->kind() != c10::prim::ListConstruct || list->inputs().empty())
      refuse(n, "concatenates a list that is not built in the model's forward");
    std::vector<const TensorInfo*> parts;
    for (const Value* v : list->inputs()) {
      auto it = env_.find(v);
      if (it == env_.end() || !std::holds_alternative<TensorInfo>(it->second))
        refuse(n, "concatenates a value that is not a tensor");
      parts.push_back(&std::get<TensorInfo>(it->second));
    }
    const TensorInfo& first = *parts.front();
    const int axis = axis_of(n, first, integer(n, 1));
    if (axis != 0) refuse(n, "concatenates along the length; deepmr reads concatenation along channels");
    GraphNode g = node_for(n, OpKind::concat, {});
    g.axis = 0;
    g.dims = first.dims;
    g.dims[0] = 0;
    for (const TensorInfo* p : parts) {
      if (p->dims.size() != first.dims.size() || p->height != first.height ||
          !std::equal(p->dims.begin() + 1, p->dims.end(), first.dims.begin() + 1))
        refuse(n, "concatenates tensors whose lengths differ");
      g.inputs.push_back(p->node);
      g.dims[0] += p->dims[0];
    }
    emit(n, std::move(g), first.height);
  }

  void slice(const Node* n) {
    const TensorInfo& x = tensor(n, 0);
    std::int64_t dim = integer(n, 1);
    const auto start_value = value(n, 2), end_value = value(n, 3);
    const std::int64_t step = integer(n, 4);
    std::int64_t start = start_value.isNone() ? 0 : start_value.toInt();
    std::int64_t end = end_value.isNone() ? kOpenEnd : end_value.toInt();  // traced: INT64_MAX
    if (dim < 0) dim += x.torch_rank();
    const bool whole = start == 0 && end >= kOpenEnd && step == 1;
    const bool length_axis = dim == x.torch_rank() - 1 && x.dims.size() == 2;
    if (!length_axis) {
      if (whole) return alias(n, x);  // x[:, ...]
      refuse(n, "slices along axis " + std::to_string(dim) + "; deepmr reads crops along the length");
    }
    if (step != 1) refuse(n, "slices with step " + std::to_string(step) + "; deepmr reads step 1");
    const std::int64_t size = x.dims[1];
    if (start < 0) start += size;
    if (end < 0) end += size;
    start = std::clamp<std::int64_t>(start, 0, size);
    end = std::clamp<std::int64_t>(end, start, size);
    if (start == 0 && end == size) return alias(n, x);
    if (end == start)
      refuse(n, "crops away every position of an input of length " + std::to_string(size) + "; give a longer input");
    GraphNode g = node_for(n, OpKind::crop, {x.node});
    g.start = start;
    g.end = end;
    g.dims = {x.dims[0], end - start};
    emit(n, std::move(g), x.height);
  }

  void flatten(const Node* n, const std::string& k) {
    const TensorInfo& x = tensor(n, 0);
    std::int64_t features = 1;
    for (auto d : x.dims) features *= d;
    if (k == "aten::flatten") {
      std::int64_t first = integer(n, 1), last = integer(n, 2);
      if (last < 0) last += x.torch_rank();
      if (first != 1 || last != x.torch_rank() - 1)
        refuse(n, "flattens other axes than all but the batch; deepmr reads flatten(1, -1)");
    } else {  // view/reshape to [N, -1], [N, F] or [-1, F]; N may be aten::size(x, 0)
      std::vector<std::int64_t> shape;
      const Node* list = n->input(1)->node();
      if (list->kind() == c10::prim::ListConstruct) {
        for (const Value* v : list->inputs()) {
          std::optional<c10::IValue> c;  // (not from c10::optional: IValue converts one to None)
          if (auto constant = torch::jit::toIValue(v)) {
            c = *constant;
          } else {
            auto it = env_.find(v);
            if (it != env_.end() && std::holds_alternative<c10::IValue>(it->second))
              c = std::get<c10::IValue>(it->second);
          }
          if (!c || !c->isInt()) refuse(n, "reshapes to a size deepmr cannot work out");
          shape.push_back(c->toInt());
        }
      } else {
        shape = ints(n, 1);
      }
      const bool ok = shape.size() == 2 && ((shape[0] == kBatch && (shape[1] == -1 || shape[1] == features)) ||
                                            (shape[0] == -1 && shape[1] == features));
      if (!ok) refuse(n, "reshapes to another shape than batch x features; deepmr reads x.view(x.size(0), -1)");
    }
    if (x.dims.size() == 1 && !x.height) return alias(n, x);
    GraphNode g = node_for(n, OpKind::flatten, {x.node});
    g.dims = {features};
    emit(n, std::move(g), false);
  }

  void linear(const Node* n) {
    const TensorInfo& x = tensor(n, 0);
    const at::Tensor w = parameter(n, 1);
    const auto b = optional_parameter(n, 2);
    if (x.height || x.dims.size() != 1 || w.dim() != 2 || x.dims[0] != w.size(1))
      refuse(n, "expects " + std::to_string(w.size(w.dim() - 1)) + " features per example but the tensor it reads is " +
                    shape_text(x) + "; deepmr reads Linear after a flatten or a global pooling");
    GraphNode g = node_for(n, OpKind::linear, {x.node});
    g.dims = {w.size(0)};
    g.weight = graph_tensor(w);
    if (b) g.bias = graph_tensor(*b);
    emit(n, std::move(g), false);
  }

  void softmax(const Node* n, OpKind kind) {
    const TensorInfo& x = tensor(n, 0);
    if (x.height) refuse(n, "works on a conv2d-layout tensor; squeeze the height axis first");
    if (!value(n, 2).isNone()) refuse(n, "asks for a dtype; deepmr reads it in the input's type");
    GraphNode g = node_for(n, kind, {x.node});
    g.axis = axis_of(n, x, integer(n, 1));
    g.dims = x.dims;
    emit(n, std::move(g), false);
  }

  void squeeze(const Node* n, bool unsqueeze) {
    const TensorInfo& x = tensor(n, 0);
    if (n->inputs().size() != 2) refuse(n, "squeezes every size-1 axis; deepmr reads squeeze(2) of the height axis");
    std::int64_t dim = integer(n, 1);
    if (dim < 0) dim += x.torch_rank() + (unsqueeze ? 1 : 0);
    if (dim != 2 || x.dims.size() != 2 || x.height == unsqueeze)
      refuse(n, "changes another axis than the height (axis 2 of N x C x 1 x L), which deepmr does not read");
    TensorInfo y = x;
    y.height = unsqueeze;
    env_[n->output(0)] = y;
  }

  static std::string shape_text(const TensorInfo& x) {
    std::string s = "N";
    for (std::size_t i = 0; i < x.dims.size(); ++i)
      s += " x " + std::to_string(x.dims[i]) + (x.height && i == 0 ? " x 1" : "");
    return s;
  }

  // ---- static values (shape arithmetic) -------------------------------------------------------
  void compare(const Node* n, const std::string& k) {
    const auto a = value(n, 0), b = value(n, 1);
    if (!a.isInt() || !b.isInt()) refuse(n, "compares values that are not sizes");
    if (a.toInt() == kBatch || b.toInt() == kBatch)
      refuse(n, "depends on the batch size; deepmr reads models whose ops do not");
    const std::int64_t x = a.toInt(), y = b.toInt();
    const bool r = k == "aten::ne"   ? x != y
                   : k == "aten::eq" ? x == y
                   : k == "aten::gt" ? x > y
                   : k == "aten::lt" ? x < y
                   : k == "aten::ge" ? x >= y
                                     : x <= y;
    static_value(n, c10::IValue(r));
  }

  void branch(Node* n) {
    const auto c = value(n, 0);
    if (!c.isBool()) refuse(n, "branches on a value that is not a boolean");
    Block* taken = n->blocks()[c.toBool() ? 0 : 1];
    for (const Node* inner : taken->nodes())
      if (inner->kind() == c10::prim::RaiseException)
        refuse(inner, "is reached: the model raises an exception for an input of this shape; check the input length");
    walk(taken);
    for (std::size_t i = 0; i < n->outputs().size(); ++i) {
      const Value* from = taken->outputs()[i];
      if (auto constant = torch::jit::toIValue(from))
        env_[n->output(i)] = *constant;
      else if (env_.count(from))
        env_[n->output(i)] = env_.at(from);
      forward_[n->output(i)] = from;
    }
  }

  void visit(Node* n) {
    const std::string k = n->kind().toQualString();
    if (k == "prim::Constant" || k == "prim::ListConstruct" || k == "prim::TupleConstruct" ||
        k == "prim::DictConstruct")
      return;  // read by the ops that use them
    if (k == "aten::conv1d" || k == "aten::conv2d" || k == "aten::_convolution" || k == "aten::_convolution_mode" ||
        k == "aten::conv_transpose1d")
      return convolution(n, k);
    if (k == "aten::max_pool1d" || k == "aten::max_pool2d" || k == "aten::avg_pool1d" || k == "aten::avg_pool2d")
      return pool(n, k);
    if (k == "aten::mean") return reduction(n, OpKind::mean);
    if (k == "aten::amax") return reduction(n, OpKind::max);
    if (k == "aten::max" && n->inputs().size() == 3) return reduction(n, OpKind::max);
    if (k == "aten::logsumexp") return reduction(n, OpKind::logsumexp);
    static const std::map<std::string, OpKind> pointwise_ops = {
        {"aten::relu", OpKind::relu},       {"aten::elu", OpKind::elu},
        {"aten::gelu", OpKind::gelu},       {"aten::softplus", OpKind::softplus},
        {"aten::sigmoid", OpKind::sigmoid}, {"aten::tanh", OpKind::tanh},
        {"aten::exp", OpKind::exp},         {"aten::threshold", OpKind::threshold},
        {"aten::dropout", OpKind::dropout}, {"aten::neg", OpKind::mul_constant}};
    if (auto it = pointwise_ops.find(k); it != pointwise_ops.end()) return pointwise(n, it->second);
    if (k == "aten::batch_norm") return batch_norm(n);
    if (k == "aten::add" || k == "aten::sub" || k == "aten::mul" || k == "aten::div") return arithmetic(n, k);
    if (k == "aten::cat") return concat(n);
    if (k == "aten::slice") return slice(n);
    if (k == "aten::flatten" || k == "aten::view" || k == "aten::reshape") return flatten(n, k);
    if (k == "aten::linear") return linear(n);
    if (k == "aten::softmax") return softmax(n, OpKind::softmax);
    if (k == "aten::log_softmax") return softmax(n, OpKind::log_softmax);
    if (k == "aten::squeeze") return squeeze(n, false);
    if (k == "aten::unsqueeze") return squeeze(n, true);
    if (k == "aten::contiguous" || k == "aten::clone" || k == "aten::detach") return alias(n, tensor(n, 0));
    if (k == "aten::size" && n->inputs().size() == 2) {
      const TensorInfo& x = tensor(n, 0);
      std::int64_t d = integer(n, 1);
      if (d < 0) d += x.torch_rank();
      if (d < 0 || d >= x.torch_rank())
        refuse(n, "asks for axis " + std::to_string(d) + " of a tensor of rank " + std::to_string(x.torch_rank()));
      std::int64_t size = kBatch;
      if (d > 0) size = x.height ? (d == 2 ? 1 : x.dims[d == 1 ? 0 : 1]) : x.dims[d - 1];
      return static_value(n, c10::IValue(size));
    }
    if (k == "aten::dim") return static_value(n, c10::IValue(tensor(n, 0).torch_rank()));
    if (k == "prim::NumToTensor" || k == "aten::Int") return static_value(n, value(n, 0));
    if (k == "aten::ne" || k == "aten::eq" || k == "aten::gt" || k == "aten::lt" || k == "aten::ge" || k == "aten::le")
      return compare(n, k);
    if (k == "aten::__not__") return static_value(n, c10::IValue(!flag(n, 0)));
    if (k == "prim::If") return branch(n);
    unsupported(n);
  }

  void walk(Block* block) {
    for (Node* n : block->nodes()) visit(n);
  }

  // ---- outputs --------------------------------------------------------------------------------
  GraphOutput output_of(const Value* v, const Node* user) const {
    while (forward_.count(v)) v = forward_.at(v);  // through a prim::If's taken block
    const Node* p = v->node();
    GraphOutput out;
    if (p->kind() == c10::prim::TupleConstruct || p->kind() == c10::prim::ListConstruct) {
      out.kind = p->kind() == c10::prim::TupleConstruct ? GraphOutput::Kind::tuple : GraphOutput::Kind::list;
      for (const Value* e : p->inputs()) out.elements.push_back(output_of(e, p));
      return out;
    }
    if (p->kind() == c10::prim::DictConstruct) {
      out.kind = GraphOutput::Kind::dict;
      for (std::size_t i = 0; i + 1 < p->inputs().size(); i += 2) {
        auto key = torch::jit::toIValue(p->input(i));
        if (!key || !key->isString()) throw ModelError(file_ + ": the model returns a dict whose keys are not strings");
        out.keys.push_back(key->toStringRef());
        out.elements.push_back(output_of(p->input(i + 1), p));
      }
      return out;
    }
    auto it = env_.find(v);
    if (it == env_.end() || !std::holds_alternative<TensorInfo>(it->second)) {
      if (user) refuse(user, "returns a value that is not a tensor deepmr computes");
      throw ModelError(file_ + ": the model returns a value that is not a tensor deepmr computes");
    }
    const TensorInfo& x = std::get<TensorInfo>(it->second);
    out.node = x.node;
    return out;
  }

  std::string file_, prefix_;
  Graph& graph_;
  std::map<const Value*, Info> env_;
  std::map<const Value*, const Value*> forward_;
};

std::optional<c10::IValue> metadata(const Module& m, const std::string& name) {
  if (m.hasattr(name)) return m.attr(name);
  if (m.type()->hasConstant(name)) return m.type()->getConstant(name);
  return std::nullopt;
}

std::string first_line(const std::string& what) {
  const auto line = what.substr(0, what.find('\n'));
  return line.find_first_not_of(" \t\r") == std::string::npos ? "LibTorch gave no reason" : line;
}

// The first op that reads the model's input: is it a 2-d convolution (Kipoi's N x 4 x 1 x L)?
bool reads_conv2d_layout(const std::shared_ptr<torch::jit::Graph>& g) {
  for (const auto& use : g->inputs()[1]->uses()) {
    const std::string k = use.user->kind().toQualString();
    if (k == "aten::conv2d" || k == "aten::max_pool2d" || k == "aten::avg_pool2d") return true;
    if ((k == "aten::_convolution" || k == "aten::_convolution_mode") && use.user->inputs().size() > 1)
      if (auto w = torch::jit::toIValue(use.user->input(1)); w && w->isTensor() && w->toTensor().dim() == 4)
        return true;
  }
  return false;
}

Module load_module(const std::string& path) {
  try {
    return torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": not a TorchScript model file (" + first_line(e.what_without_backtrace()) +
                     "); save it with torch.jit.save");
  } catch (const std::exception& e) {
    throw ModelError(path + ": not a TorchScript model file (" + first_line(e.what()) +
                     "); save it with torch.jit.save");
  }
}

Graph read_graph(const Module& top, const std::string& path, const ModelOverrides& overrides,
                 const std::optional<DataLength>& data_length) {
  Graph graph;
  graph.source = path;
  // Metadata first: freezing drops every attribute forward does not use.
  std::optional<bool> conv2d;
  if (auto v = metadata(top, "deepmr_alphabet")) graph.options.alphabet = v->toStringRef();
  if (auto v = metadata(top, "deepmr_reverse_complement")) graph.options.reverse_complement_average = v->toBool();
  if (auto v = metadata(top, "deepmr_input_length")) graph.options.input_length = static_cast<int>(v->toInt());
  if (auto v = metadata(top, "deepmr_targets"))
    for (const auto& name : v->toListRef()) graph.target_names.push_back(name.toStringRef());
  if (auto v = metadata(top, "deepmr_reduce"); v && v->isList())
    for (const auto& text : v->toListRef())
      if (text.isString()) graph.head_reductions.push_back(text.toStringRef());
  if (auto v = metadata(top, "conv2d"); v && v->isBool()) conv2d = v->toBool();
  if (overrides.alphabet) graph.options.alphabet = *overrides.alphabet;
  if (overrides.reverse_complement_average)
    graph.options.reverse_complement_average = *overrides.reverse_complement_average;
  if (overrides.input_length) graph.options.input_length = *overrides.input_length;
  if (graph.options.input_length <= 0 && data_length) graph.options.input_length = data_length->length;
  std::string sorted = graph.options.alphabet;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != "ACGT")
    throw ModelError(path + ": alphabet '" + graph.options.alphabet + "' is not an order of the four bases A, C, G, T");
  if (graph.options.input_length <= 0)
    throw ModelError(path + ": the model does not say its input length (no deepmr_input_length); give --input-length");

  // scripts/export_model.py's wrapper: its forward averages strands inside the graph (two copies
  // of the network); read the network and keep the averaging a model option.
  Module body = top;
  std::string prefix;
  if (metadata(top, "deepmr_reverse_complement") && top.hasattr("net") && top.attr("net").isModule()) {
    body = top.attr("net").toModule();
    prefix = "net";
  }
  std::shared_ptr<torch::jit::Graph> g;
  try {
    body.eval();  // before freezing: a training-mode module freezes into a different graph
    Module frozen = torch::jit::freeze_module(body);
    g = frozen.get_method("forward").graph();
    // Not torch::jit::freeze: it deletes dropout and folds batch norm into convolutions in float32.
    torch::jit::RemoveTensorMutation(g);
    torch::jit::ConstantPropagation(g);
    torch::jit::EliminateDeadCode(g);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": cannot freeze the model's forward (" + first_line(e.what_without_backtrace()) +
                     "); save it in eval mode with torch.jit.script or torch.jit.trace");
  } catch (const std::exception& e) {
    throw ModelError(path + ": cannot freeze the model's forward (" + first_line(e.what()) +
                     "); save it in eval mode with torch.jit.script or torch.jit.trace");
  }
  graph.options.conv2d_layout = conv2d.value_or(reads_conv2d_layout(g));
  Reader reader(path, prefix, graph);
  reader.read(g, graph.options.conv2d_layout, static_cast<int>(graph.options.alphabet.size()),
              graph.options.input_length);
  return graph;
}

}  // namespace

Graph read_torchscript_graph(const std::string& path, const ModelOverrides& overrides,
                             const std::optional<DataLength>& data_length) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw ModelError(path + ": cannot read the model file (check the path)");
  }
  return read_torchscript_module_graph(load_module(path), path, overrides, data_length);
}

Graph read_torchscript_module_graph(const torch::jit::Module& module, const std::string& path,
                                    const ModelOverrides& overrides, const std::optional<DataLength>& data_length) {
  try {
    return read_graph(module, path, overrides, data_length);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw ModelError(path + ": cannot read the model's graph (" + first_line(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {
    throw ModelError(path + ": cannot read the model's graph (" + first_line(e.what()) + ")");
  }
}

}  // namespace deepmr::model
