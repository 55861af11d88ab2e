#include "deepmr/model/model_file.hpp"

#include <c10/core/CPUAllocator.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "deepmr/common/child_process.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/model/graph.hpp"
#include "deepmr/model/head_reduction.hpp"
#include "deepmr/model/torchscript_graph_reader.hpp"
#include "torchscript_module_graph.hpp"

namespace deepmr::model {
namespace {

using torch::jit::Module;

// "__torch__.torch.nn.modules.conv.___torch_mangle_3.Conv2d" -> "Conv2d"
std::string short_type(const Module& module) {
  auto name = module.type()->name();
  return name ? name->name() : "?";
}

[[noreturn]] void refuse(const std::string& file, const std::string& path, const std::string& why) {
  throw ModelError(file + ": submodule '" + path + "' " + why);
}

// The layer-stack reader's refusal of a model that is not an nn.Sequential of the layers it reads
// (another structure, another layer type, a layer option it does not run): load_model_file then
// reads the model as a graph (docs/models.md, "Graphs").
struct NotALayerStack : ModelError {
  using ModelError::ModelError;
};

[[noreturn]] void not_a_stack(const std::string& file, const std::string& path, const std::string& why) {
  throw NotALayerStack(file + ": submodule '" + path + "' " + why);
}

// Hyperparameters of a submodule: the constants of a scripted module, or, for a traced module
// (whose constants are baked into its graph), the constant arguments of the one aten call in its
// forward graph.
class Hyperparameters {
 public:
  Hyperparameters(const Module& module, std::string file, std::string path)
      : module_(module), file_(std::move(file)), path_(std::move(path)) {}

  // The constant named `name`, else argument `position` of the graph call `op` (aten::...).
  c10::IValue get(const std::string& name, const std::vector<std::string>& ops, int position) const {
    if (module_.type()->hasConstant(name)) return module_.type()->getConstant(name);
    if (const torch::jit::Node* call = find_call(ops)) {
      if (position < static_cast<int>(call->inputs().size())) {
        auto value = constant_of(call->input(position));
        if (value) return *value;
      }
    }
    refuse(file_, path_, "(" + short_type(module_) + "): cannot read its '" + name +
                             "'; export the model with scripts/export_model.py");
  }

  // The kind of the first call among the graph's nodes matching `ops`, if any.
  const torch::jit::Node* find_call(const std::vector<std::string>& ops) const {
    if (!graph_) {
      auto method = module_.find_method("forward");
      if (!method) return nullptr;
      graph_ = method->graph();
    }
    for (const auto* node : graph_->nodes())
      for (const auto& op : ops)
        if (node->kind().toQualString() == op) return node;
    return nullptr;
  }

  std::vector<std::string> call_kinds() const {
    find_call({});
    std::vector<std::string> kinds;
    if (graph_)
      for (const auto* node : graph_->nodes()) {
        std::string kind = node->kind().toQualString();
        if (kind.rfind("aten::", 0) == 0) kinds.push_back(kind);
      }
    return kinds;
  }

 private:
  static std::optional<c10::IValue> constant_of(torch::jit::Value* value) {
    if (auto constant = torch::jit::toIValue(value)) return constant;
    const auto* node = value->node();
    if (node->kind() == c10::prim::ListConstruct) {
      c10::List<int64_t> list;
      for (auto* input : node->inputs()) {
        auto element = torch::jit::toIValue(input);
        if (!element || !element->isInt()) return std::nullopt;
        list.push_back(element->toInt());
      }
      return c10::IValue(list);
    }
    return std::nullopt;
  }

  const Module& module_;
  std::string file_, path_;
  mutable std::shared_ptr<torch::jit::Graph> graph_;
};

// Hyperparameters of 1-D layers are ints or 1-lists; of 2-D layers (height, length) pairs or one
// int for both axes. These read the length axis and the height axis.
std::vector<int64_t> int_values(const c10::IValue& value) {
  if (value.isInt()) return {value.toInt()};
  if (value.isTuple()) {
    std::vector<int64_t> out;
    for (const auto& element : value.toTupleRef().elements()) out.push_back(element.toInt());
    return out;
  }
  return value.toIntVector();
}
int length_axis(const c10::IValue& value) {
  auto values = int_values(value);
  return values.empty() ? 0 : static_cast<int>(values.back());
}
int height_axis(const c10::IValue& value) {
  auto values = int_values(value);
  return values.empty() ? 0 : static_cast<int>(values.front());
}

std::vector<float> tensor_values(const at::Tensor& tensor) {
  auto contiguous = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  const float* data = contiguous.data_ptr<float>();
  return std::vector<float>(data, data + contiguous.numel());
}

at::Tensor tensor_attribute(const Module& module, const std::string& name, const std::string& file,
                            const std::string& path) {
  if (!module.hasattr(name)) refuse(file, path, "(" + short_type(module) + ") has no '" + name + "'");
  auto value = module.attr(name);
  if (!value.isTensor()) refuse(file, path, "(" + short_type(module) + "): '" + name + "' is not a tensor");
  return value.toTensor();
}

std::vector<float> optional_bias(const Module& module, int count) {
  if (module.hasattr("bias")) {
    auto bias = module.attr("bias");
    if (bias.isTensor()) return tensor_values(bias.toTensor());
  }
  return std::vector<float>(static_cast<std::size_t>(count), 0.0f);
}

Layer read_conv(const Module& m, const std::string& file, const std::string& path, bool two_d) {
  Hyperparameters h(m, file, path);
  const std::vector<std::string> ops = {"aten::_convolution", "aten::conv1d", "aten::conv2d"};
  Layer layer;
  layer.kind = LayerKind::conv;
  at::Tensor weight = tensor_attribute(m, "weight", file, path);
  if (two_d) {
    if (weight.dim() != 4 || weight.size(2) != 1)
      refuse(file, path, "(Conv2d) has a kernel of height " + std::to_string(weight.dim() == 4 ? weight.size(2) : -1) +
                             "; only height-1 kernels on N x 4 x 1 x L inputs are supported");
    weight = weight.squeeze(2);
  } else if (weight.dim() != 3) {
    refuse(file, path, "(Conv1d) has a weight of unexpected rank");
  }
  // Argument positions in aten::conv1d/conv2d: (input, weight, bias, stride, padding, dilation, groups).
  layer.kernel = static_cast<int>(weight.size(2));
  layer.stride = length_axis(h.get("stride", ops, 3));
  layer.dilation = length_axis(h.get("dilation", ops, 5));
  const auto groups = h.get("groups", ops, 6);
  if (groups.isInt() && groups.toInt() != 1) not_a_stack(file, path, "is a grouped convolution (groups = " + std::to_string(groups.toInt()) + "), which is not supported");
  if (m.type()->hasConstant("padding_mode") && m.type()->getConstant("padding_mode").toStringRef() != "zeros")
    refuse(file, path, "uses padding_mode '" + m.type()->getConstant("padding_mode").toStringRef() + "'; only zero padding is supported");
  const auto padding = h.get("padding", ops, 4);
  if (padding.isString()) {
    if (padding.toStringRef() == "same") {
      const int total = layer.dilation * (layer.kernel - 1);
      layer.pad_left = total / 2;
      layer.pad_right = total - total / 2;
    } else if (padding.toStringRef() != "valid") {
      refuse(file, path, "has padding '" + padding.toStringRef() + "'");
    }
  } else {
    if (two_d && height_axis(padding) != 0) refuse(file, path, "pads the height axis; only height-1 inputs are supported");
    layer.pad_left = layer.pad_right = length_axis(padding);
  }
  layer.weight = tensor_values(weight);
  layer.bias = optional_bias(m, static_cast<int>(weight.size(0)));
  return layer;
}

Layer read_pool(const Module& m, const std::string& file, const std::string& path, bool max, bool two_d) {
  Hyperparameters h(m, file, path);
  const std::vector<std::string> ops = max ? std::vector<std::string>{"aten::max_pool1d", "aten::max_pool2d"}
                                           : std::vector<std::string>{"aten::avg_pool1d", "aten::avg_pool2d"};
  Layer layer;
  layer.kind = max ? LayerKind::max_pool : LayerKind::avg_pool;
  const auto kernel = h.get("kernel_size", ops, 1);
  if (two_d && height_axis(kernel) != 1)
    refuse(file, path, "pools " + std::to_string(height_axis(kernel)) + " rows; only height-1 pooling on N x 4 x 1 x L inputs is supported");
  layer.kernel = length_axis(kernel);
  auto stride_value = h.get("stride", ops, 2);
  const bool stride_given = !(stride_value.isNone() || int_values(stride_value).empty());
  const int stride = stride_given ? length_axis(stride_value) : layer.kernel;
  const auto padding_value = h.get("padding", ops, 3);
  const int padding = std::max(length_axis(padding_value), height_axis(padding_value));
  const auto ceil_mode = h.get("ceil_mode", ops, max ? 5 : 4);
  if (stride != layer.kernel || padding != 0 || (ceil_mode.isBool() && ceil_mode.toBool()))
    not_a_stack(file, path, "pools with kernel " + std::to_string(layer.kernel) + ", stride " + std::to_string(stride) +
                           ", padding " + std::to_string(padding) +
                           "; only kernel = stride without padding or ceil_mode is supported");
  if (max) {
    const int dilation = length_axis(h.get("dilation", ops, 4));
    if (dilation != 1) not_a_stack(file, path, "is a dilated max pool, which is not supported");
  }
  return layer;
}

Layer read_batch_norm(const Module& m, const std::string& file, const std::string& path) {
  Hyperparameters h(m, file, path);
  Layer layer;
  layer.kind = LayerKind::batch_norm;
  const double eps = h.get("eps", {"aten::batch_norm"}, 7).toDouble();
  auto mean = tensor_attribute(m, "running_mean", file, path).to(at::kDouble);
  auto var = tensor_attribute(m, "running_var", file, path).to(at::kDouble);
  const auto channels = mean.numel();
  at::Tensor gamma = at::ones({channels}, at::kDouble), beta = at::zeros({channels}, at::kDouble);
  if (m.hasattr("weight") && m.attr("weight").isTensor()) gamma = m.attr("weight").toTensor().to(at::kDouble);
  if (m.hasattr("bias") && m.attr("bias").isTensor()) beta = m.attr("bias").toTensor().to(at::kDouble);
  // Inference batch norm folded into y = x * scale + shift, computed in double then rounded once.
  auto scale = gamma / at::sqrt(var + eps);
  auto shift = beta - mean * scale;
  layer.weight = tensor_values(scale.to(at::kFloat));
  layer.bias = tensor_values(shift.to(at::kFloat));
  return layer;
}

// Classifies one leaf submodule.
Layer read_layer(const Module& m, const std::string& file, const std::string& path) {
  const std::string type = short_type(m);
  Hyperparameters h(m, file, path);
  Layer layer;
  if (type == "Conv1d" || type == "Conv2d") {
    layer = read_conv(m, file, path, type == "Conv2d");
  } else if (type == "MaxPool1d" || type == "MaxPool2d") {
    layer = read_pool(m, file, path, true, type == "MaxPool2d");
  } else if (type == "AvgPool1d" || type == "AvgPool2d") {
    layer = read_pool(m, file, path, false, type == "AvgPool2d");
  } else if (type == "ReLU") {
    layer.kind = LayerKind::relu;
  } else if (type == "Threshold") {
    layer.kind = LayerKind::threshold;
    layer.threshold = h.get("threshold", {"aten::threshold", "aten::threshold_"}, 1).toDouble();
    layer.value = h.get("value", {"aten::threshold", "aten::threshold_"}, 2).toDouble();
  } else if (type == "ELU") {
    layer.kind = LayerKind::elu;
    layer.alpha = h.get("alpha", {"aten::elu", "aten::elu_"}, 1).toDouble();
  } else if (type == "BatchNorm1d" || type == "BatchNorm2d") {
    layer = read_batch_norm(m, file, path);
  } else if (type == "Dropout") {
    layer.kind = LayerKind::dropout;
    layer.p = h.get("p", {"aten::dropout", "aten::dropout_", "aten::feature_dropout"}, 1).toDouble();
    if (!(layer.p >= 0 && layer.p < 1)) refuse(file, path, "(Dropout) has p = " + std::to_string(layer.p) + "; it must lie in [0, 1)");
  } else if (type == "Flatten") {
    layer.kind = LayerKind::flatten;
    const auto start = h.get("start_dim", {"aten::flatten"}, 1), end = h.get("end_dim", {"aten::flatten"}, 2);
    if (start.toInt() != 1 || end.toInt() != -1)
      not_a_stack(file, path, "(Flatten) flattens dims " + std::to_string(start.toInt()) + ".." + std::to_string(end.toInt()) +
                             "; only Flatten(1, -1) is supported");
  } else if (type == "Linear") {
    layer.kind = LayerKind::linear;
    auto weight = tensor_attribute(m, "weight", file, path);
    if (weight.dim() != 2) refuse(file, path, "(Linear) has a weight of unexpected rank");
    layer.weight = tensor_values(weight);
    layer.bias = optional_bias(m, static_cast<int>(weight.size(0)));
  } else if (type == "Sigmoid") {
    layer.kind = LayerKind::sigmoid;
  } else if (h.find_call({"aten::view", "aten::reshape", "aten::flatten"}) && h.call_kinds().size() <= 3) {
    // A lambda that views the input as N x -1 (Kipoi's DeepSEA flattens this way).
    layer.kind = LayerKind::flatten;
  } else {
    std::string calls;
    for (const auto& k : h.call_kinds()) calls += (calls.empty() ? "" : ", ") + k;
    not_a_stack(file, path, "has type '" + type + "', which deepmr does not support" +
                           (calls.empty() ? std::string() : " (its forward calls " + calls + ")") +
                           "; supported: Conv1d, Conv2d, MaxPool1d/2d, AvgPool1d/2d, ReLU, Threshold, ELU, "
                           "BatchNorm1d/2d, Dropout, Flatten, Linear, Sigmoid, Sequential");
  }
  layer.path = path;
  layer.type = type;
  return layer;
}

bool is_sequential(const Module& m) { return short_type(m) == "Sequential"; }

void collect_layers(const Module& m, const std::string& prefix, const std::string& file, std::vector<Layer>& out,
                    bool& conv2d) {
  for (const auto& child : m.named_children()) {
    const std::string path = prefix.empty() ? child.name : prefix + "." + child.name;
    if (is_sequential(child.value)) {
      collect_layers(child.value, path, file, out, conv2d);
      continue;
    }
    // A leaf with children (a wrapper such as Kipoi's Sequential(Lambda, Linear)) is not a layer.
    const std::string type = short_type(child.value);
    if (child.value.children().size() > 0)
      not_a_stack(file, path, "has type '" + type + "' with submodules; only nn.Sequential may contain layers");
    out.push_back(read_layer(child.value, file, path));
    if (type == "Conv2d" || type == "MaxPool2d" || type == "AvgPool2d" || type == "BatchNorm2d") conv2d = true;
  }
}

std::optional<c10::IValue> metadata(const Module& m, const std::string& name) {
  if (m.hasattr(name)) return m.attr(name);
  if (m.type()->hasConstant(name)) return m.type()->getConstant(name);
  return std::nullopt;
}

LayerStack read_stack(const Module& top, const std::string& path, const ModelOverrides& overrides,
                      const std::optional<DataLength>& data_length) {
  LayerStack stack;
  stack.source = path;
  Module body = top;  // a handle: copies share the module
  std::string prefix;
  if (!is_sequential(top)) {
    // A wrapper holding exactly one Sequential (scripts/export_model.py writes this form).
    std::vector<torch::jit::NameModule> children;
    for (const auto& child : top.named_children()) children.push_back(child);
    if (children.size() != 1 || !is_sequential(children.front().value))
      throw NotALayerStack(path + ": the model is a '" + short_type(top) +
                       "', not an nn.Sequential of layers (nor a wrapper around one); export it with "
                       "scripts/export_model.py");
    body = children.front().value;
    prefix = children.front().name;
  }
  bool conv2d = false;
  collect_layers(body, prefix, path, stack.layers, conv2d);
  if (stack.layers.empty()) throw ModelError(path + ": the model has no layers");
  if (stack.layers.front().kind != LayerKind::conv)
    not_a_stack(path, stack.layers.front().path, "is the first layer but not a convolution; the model must start with Conv1d or Conv2d on one-hot DNA");
  stack.options.conv2d_layout = conv2d;

  if (auto value = metadata(top, "deepmr_alphabet")) stack.options.alphabet = value->toStringRef();
  if (auto value = metadata(top, "deepmr_reverse_complement")) stack.options.reverse_complement_average = value->toBool();
  if (auto value = metadata(top, "deepmr_input_length")) stack.options.input_length = static_cast<int>(value->toInt());
  if (auto value = metadata(top, "deepmr_targets"))
    for (const auto& name : value->toListRef()) stack.target_names.push_back(name.toStringRef());
  if (overrides.alphabet) stack.options.alphabet = *overrides.alphabet;
  if (overrides.reverse_complement_average) stack.options.reverse_complement_average = *overrides.reverse_complement_average;
  if (overrides.input_length) stack.options.input_length = *overrides.input_length;

  std::string sorted = stack.options.alphabet;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != "ACGT")
    throw ModelError(path + ": alphabet '" + stack.options.alphabet + "' is not an order of the four bases A, C, G, T");

  const int channels = static_cast<int>(stack.layers.front().weight.size() / stack.layers.front().bias.size() /
                                        stack.layers.front().kernel);
  if (channels != 4)
    refuse(path, stack.layers.front().path, "takes " + std::to_string(channels) + " input channels; one-hot DNA has 4");
  if (stack.options.input_length <= 0) {
    auto [first, last] = accepted_input_lengths(stack, channels);
    if (first == 0) throw ModelError(path + ": no input length fits the model's layers");
    const std::string range = std::to_string(first) + " to " + std::to_string(last);
    if (data_length && first != last) {
      // A model that reads several lengths reads the data's own (issue: no --input-length needed).
      if (data_length->length < first || data_length->length > last)
        throw ModelError(path + ": the model accepts input lengths " + range + ", but " + data_length->what + " has " +
                         std::to_string(data_length->length) + " bases; give data of a length it accepts");
      first = last = data_length->length;
    }
    if (first != last)
      throw ModelError(path + ": the model accepts input lengths " + range +
                       " and does not say which it was trained on; give --input-length");
    stack.options.input_length = first;
  }
  infer_shapes(stack, channels, stack.options.input_length);
  return stack;
}


// LibTorch's loader takes a tensor's shape and storage size from data.pkl and its bytes from
// another entry of the archive without checking that the entry is long enough: in a damaged file
// every read of such a tensor runs past its buffer (found by the model fuzz harness). While a file
// loads, this allocator records the size of each CPU buffer LibTorch allocates (the entries are
// read into such buffers), so that each tensor's storage can be checked against the bytes that
// are really there.
class RecordingAllocator final : public c10::Allocator {
 public:
  RecordingAllocator() : base_(c10::GetCPUAllocator()) { c10::SetCPUAllocator(this); }
  ~RecordingAllocator() override { c10::SetCPUAllocator(base_); }
  RecordingAllocator(const RecordingAllocator&) = delete;
  RecordingAllocator& operator=(const RecordingAllocator&) = delete;

  c10::DataPtr allocate(std::size_t bytes) const override {
    c10::DataPtr data = base_->allocate(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    sizes_[data.get()] = bytes;
    return data;
  }
  c10::DeleterFnPtr raw_deleter() const override { return base_->raw_deleter(); }

  // The bytes allocated at `data`; nullopt for a buffer allocated otherwise.
  std::optional<std::size_t> size_of(const void* data) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = sizes_.find(data);
    if (it == sizes_.end()) return std::nullopt;
    return it->second;
  }

 private:
  c10::Allocator* base_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<const void*, std::size_t> sizes_;
};

void check_tensor_storage(const Module& top, const RecordingAllocator& recorded, const std::string& file) {
  for (const auto& attribute : top.named_attributes(/*recurse=*/true)) {
    if (!attribute.value.isTensor()) continue;
    const at::Tensor& t = attribute.value.toTensor();
    if (!t.defined() || !t.has_storage()) continue;
    const auto held = recorded.size_of(t.storage().data());
    if (held && *held < t.storage().nbytes())
      throw ModelError(file + ": tensor '" + attribute.name + "' needs " + std::to_string(t.storage().nbytes()) +
                       " bytes of data but the file holds " + std::to_string(*held) +
                       "; the file is damaged: export the model again");
  }
}

// LibTorch's messages span lines (source excerpts, backtraces): the first one says what happened.
// Some of its errors on damaged archives have no text at all.
std::string first_line(const std::string& what) {
  const auto line = what.substr(0, what.find('\n'));
  return line.find_first_not_of(" \t\r") == std::string::npos ? "LibTorch gave no reason" : line;
}

// The model error for the exception LibTorch's importer threw (call it inside a catch block).
std::string import_error_text(const std::string& path) {
  const auto text = [&](const std::string& why) {
    return path + ": not a TorchScript model file (" + why + "); save it with torch.jit.save or scripts/export_model.py";
  };
  try {
    throw;
  } catch (const c10::Error& e) {
    return text(first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    // LibTorch's TorchScript compiler reports a damaged code entry as a std::runtime_error
    // (torch::jit::ErrorReport), not a c10::Error (found by the model fuzz harness).
    return text(first_line(e.what()));
  } catch (...) {
    return text("LibTorch threw something that is not an exception");
  }
}

// LibTorch 1.13's TorchScript importer dies of SIGSEGV on some damaged archives (the model fuzz
// harness found one in ScriptTypeParser::parseClassConstant) instead of throwing, and whether it
// does depends on the heap's layout. The file is read first in a child process: a crash there is a
// ModelError rather than the end of every rank, and a file the child could not read is refused
// with the child's message, never read by this process. Costs a fork and one more read of the file.
constexpr int kImportRefused = 3;

void import_in_child_first(const std::string& path) {
  const auto end = run_in_child_process(
      [&](std::string& message) {
        try {
          torch::jit::load(path, torch::kCPU);
          return 0;
        } catch (...) {
          message = import_error_text(path);
          return kImportRefused;
        }
      },
      std::chrono::minutes(5));
  // A child that could not start, took too long or was killed from outside leaves the file to the
  // load in this process.
  if (end.crashed())
    throw ModelError(path + ": LibTorch crashed reading the model file with " + signal_text(end.code) +
                     "; the file is damaged or was not written by torch.jit.save: export the model again "
                     "with scripts/export_model.py");
  if (end.kind != ChildEnd::Kind::exited || end.code == 0) return;
  if (end.code == kImportRefused && !end.message.empty()) throw ModelError(end.message);
  throw ModelError(path + ": LibTorch failed reading the model file (its reader ended with status " +
                   std::to_string(end.code) + "); the file is damaged: export the model again with "
                   "scripts/export_model.py");
}

// A model that is not a layer stack, read as a graph, its head reductions applied.
LayerStack read_graph_model(const Module& top, const std::string& path, const ModelOverrides& overrides,
                            const std::optional<DataLength>& data_length) {
  auto graph = std::make_shared<Graph>(read_torchscript_module_graph(top, path, overrides, data_length));
  // Profile heads reduced to a scalar per task: the user's reductions, else the model's own.
  const bool given = overrides.head_reductions.has_value();
  for (const auto& text : given ? *overrides.head_reductions : graph->head_reductions) {
    HeadReduction reduction;
    try {
      reduction = parse_head_reduction(text, given ? "option 'reduce' (a run: model.reduce)" : path + ": deepmr_reduce");
    } catch (const UsageError& e) {
      if (given) throw;
      throw ModelError(e.what());  // the file's own metadata is malformed: export it again
    }
    reduce_head(*graph, reduction);
  }
  for (int id : graph->dropout_nodes()) {
    const GraphNode& node = graph->nodes[static_cast<std::size_t>(id)];
    if (!(node.p >= 0 && node.p < 1))
      throw ModelError(path + ": the dropout in submodule '" + node.module_path + "' has p = " + std::to_string(node.p) +
                       "; it must lie in [0, 1)");
  }
  if (graph->flat_output_count() < 1) throw ModelError(path + ": the model has no outputs");
  LayerStack stack;
  stack.source = path;
  stack.options = graph->options;
  stack.target_names = graph->target_names.empty() ? graph->flat_output_names() : graph->target_names;
  stack.graph = std::move(graph);
  return stack;
}

// The file's top module, its tensors checked (check_tensor_storage) after a child process has
// tried the import (a damaged file must not take this process down).
Module load_top(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw ModelError(path + ": cannot read the model file (check the path)");
  }
  import_in_child_first(path);
  try {
    const RecordingAllocator recorded;
    Module top = torch::jit::load(path, torch::kCPU);
    check_tensor_storage(top, recorded, path);
    return top;
  } catch (const Error&) {
    throw;
  } catch (...) {
    throw ModelError(import_error_text(path));
  }
}

// One model: a layer stack when it is one, else a graph. `name` names it in messages.
LayerStack read_model(const Module& top, const std::string& name, const ModelOverrides& overrides,
                      const std::optional<DataLength>& data_length) {
  try {
    return read_stack(top, name, overrides, data_length);
  } catch (const NotALayerStack&) {
    // Not an nn.Sequential of the layers above: read the model as a graph (the graph reader's
    // refusal, if any, is the error).
    return read_graph_model(top, name, overrides, data_length);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw ModelError(name + ": cannot read the model's layers (" + first_line(e.what_without_backtrace()) +
                     "); export it with scripts/export_model.py");
  } catch (const std::exception& e) {
    throw ModelError(name + ": cannot read the model's layers (" + first_line(e.what()) +
                     "); export it with scripts/export_model.py");
  }
}

// The submodule at a dotted path ("members.0"), if there is one.
std::optional<Module> submodule(const Module& top, const std::string& dotted) {
  Module module = top;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    const std::size_t dot = std::min(dotted.find('.', start), dotted.size());
    const std::string part = dotted.substr(start, dot - start);
    if (part.empty() || !module.hasattr(part) || !module.attr(part).isModule()) return std::nullopt;
    module = module.attr(part).toModule();
    start = dot + 1;
  }
  return module;
}

// The submodule names a deep-ensemble file lists (deepmr_ensemble_members); empty for one model.
std::vector<std::string> ensemble_member_names(const Module& top, const std::string& path) {
  std::vector<std::string> names;
  const auto value = metadata(top, "deepmr_ensemble_members");
  if (!value) return names;
  if (value->isList())
    for (const auto& item : value->toListRef())
      if (item.isString()) names.push_back(item.toStringRef());
  if (names.size() < 2 || !value->isList() || names.size() != value->toListRef().size())
    throw ModelError(path + ": deepmr_ensemble_members must list the submodule names of at least 2 members; "
                            "export the ensemble again with scripts/export_model.py");
  for (std::size_t k = 0; k < names.size(); ++k)
    for (std::size_t j = 0; j < k; ++j)
      if (names[j] == names[k])  // one member twice: its samples would shrink the spread
        throw ModelError(path + ": deepmr_ensemble_members lists '" + names[k] +
                         "' twice; export the ensemble again with scripts/export_model.py");
  for (const auto& name : names)
    if (!submodule(top, name))
      throw ModelError(path + ": deepmr_ensemble_members names '" + name +
                       "', which is not a submodule of the file; export the ensemble again with scripts/export_model.py");
  return names;
}

}  // namespace

LayerStack load_model_file(const std::string& path, const ModelOverrides& overrides,
                           const std::optional<DataLength>& data_length) {
  const Module top = load_top(path);
  const auto members = ensemble_member_names(top, path);
  if (!members.empty())
    throw ModelError(path + ": the file holds a deep ensemble of " + std::to_string(members.size()) +
                     " members; load it with load_model_members");
  return read_model(top, path, overrides, data_length);
}

std::vector<LayerStack> load_model_members(const std::string& path, const ModelOverrides& overrides,
                                           const std::optional<DataLength>& data_length) {
  const Module top = load_top(path);
  const auto members = ensemble_member_names(top, path);
  if (members.empty()) return {read_model(top, path, overrides, data_length)};
  std::vector<LayerStack> stacks;
  for (const auto& name : members) {
    const std::string label = path + "[" + name + "]";
    LayerStack stack = read_model(*submodule(top, name), label, overrides, data_length);
    stack.source = path;
    stack.member = name;
    stacks.push_back(std::move(stack));
  }
  return stacks;
}

}  // namespace deepmr::model
