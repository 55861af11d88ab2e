#pragma once
// deepmr's own representation of a model's forward pass as a graph of operations (issue 16): the
// form a TorchScript module of any supported architecture is read into
// (torchscript_graph_reader.hpp), independent of LibTorch. No LibTorch types here.
//
// Conventions. Every node produces one tensor of shape batch x dims, where dims (per example) is
// {channels, length} for sequence activations or {features} after a flatten or a global pooling.
// Kipoi's conv2d layout (N x C x 1 x L) is read with the height axis dropped: a conv2d with a
// height-1 kernel is a conv, squeeze/unsqueeze of the height are no nodes, and the flattened
// order (C x 1 x L = C x L) is unchanged. Axes (`axis`) count per example: 0 is the channel axis
// (or the features), 1 the length. Nodes are in topological order: a node's inputs have smaller ids.
// Node 0 is the model's input.
//
// Parameters are kept exactly as the file stores them (float32, or float64 for a float64
// module), in PyTorch's layouts; nothing is folded here (a batch norm keeps its running
// statistics: backends fold them as they need).

#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/model/layer_stack.hpp"  // ModelOptions

namespace deepmr::model {

enum class OpKind {
  input,           // the model's input: dims {channels, length}
  conv,            // conv1d, or conv2d with a height-1 kernel: weight O x I/groups x kernel, bias O
  conv_transpose,  // conv_transpose1d: weight I x O/groups x kernel, bias O
  max_pool,        // kernel, stride, pad_left (= pad_right), dilation
  avg_pool,        // kernel, stride, pad_left (= pad_right), count_include_pad
  mean,            // mean over `axis` (keepdim): global average pooling over the length
  max,             // max over `axis` (keepdim): global max pooling
  logsumexp,       // log(sum(exp(x))) over `axis` (keepdim)
  relu,
  elu,        // alpha, scale, input_scale
  gelu,       // approximate_tanh
  softplus,   // beta, threshold
  sigmoid,
  tanh,
  exp,
  threshold,  // y = x > threshold ? x : value
  batch_norm,  // inference: (x - running_mean) / sqrt(running_var + eps) * weight + bias, per channel
  add_constant,  // y = x + alpha * constant
  sub_constant,  // y = x - alpha * constant
  mul_constant,  // y = x * constant (also a negation: constant -1)
  div_constant,  // y = x / constant
  add,           // y = a + alpha * b (same shapes: the residual add)
  sub,           // y = a - alpha * b
  concat,        // along `axis` (the channels)
  crop,          // the length positions [start, end) of each channel
  flatten,       // {channels, length} -> {channels * length}, row-major
  linear,        // weight out x in, bias out; input {in}
  softmax,       // over `axis`
  log_softmax,   // over `axis`
  dropout        // p: the identity at inference; a mask site for MC dropout
};

// The op's name in messages and docs ("conv", "batch_norm", ...).
std::string op_name(OpKind kind);

// A parameter tensor, exactly as stored: one of the two value vectors is filled.
struct GraphTensor {
  std::vector<std::int64_t> shape;
  bool float64 = false;  // values in f64 (a float64 module), else in f32
  std::vector<float> f32;
  std::vector<double> f64;

  bool empty() const { return shape.empty() && f32.empty() && f64.empty(); }
  std::int64_t numel() const;
  // The values in double (exact for either storage).
  std::vector<double> to_double() const;
};

struct GraphNode {
  OpKind kind = OpKind::input;
  std::vector<int> inputs;         // ids of the nodes whose outputs this node reads
  std::vector<std::int64_t> dims;  // output shape per example

  // Where the node comes from, for messages: the TorchScript op ("aten::conv1d"), the submodule
  // path ("rconvs.0", "" for the top module) and the source line ("models.py:23", "" if unknown).
  std::string torch_op, module_path, source_line;

  // conv, conv_transpose, pools.
  int kernel = 1, stride = 1, dilation = 1, pad_left = 0, pad_right = 0, groups = 1, output_padding = 0;
  bool count_include_pad = true;
  // Reductions, concat, softmax: the axis per example; reductions also keepdim.
  int axis = 0;
  bool keepdim = false;
  // crop: [start, end) of the length axis.
  std::int64_t start = 0, end = 0;
  // Scalars: add/sub/mul/div constant (constant, alpha); add/sub (alpha); elu (alpha, scale,
  // input_scale); softplus (beta, threshold); threshold (threshold, value); batch_norm (eps);
  // dropout (p).
  double constant = 0, alpha = 1, scale = 1, input_scale = 1, beta = 1, threshold = 0, value = 0, eps = 0, p = 0;
  bool approximate_tanh = false;  // gelu

  // conv, conv_transpose, linear: weight and bias (bias empty when the layer has none).
  // batch_norm: weight and bias (each empty when affine = false), running_mean, running_var.
  GraphTensor weight, bias, running_mean, running_var;
};

// The model's output structure: a tensor, or a tuple, list or dict of outputs (nested).
struct GraphOutput {
  enum class Kind { tensor, tuple, list, dict } kind = Kind::tensor;
  int node = -1;                      // tensor: the node it is
  std::vector<std::string> keys;      // dict: the keys, in order
  std::vector<GraphOutput> elements;  // tuple, list, dict: the elements (dict: the values)
};

// One tensor of the output structure with its name: "" for a lone tensor, "0", "1" for a tuple's
// or list's elements, the key for a dict's, joined with '.' when nested ("heads.0").
struct NamedOutput {
  std::string name;
  int node = -1;
};

struct Graph {
  std::string source;  // the model file
  ModelOptions options;
  std::vector<std::string> target_names;  // deepmr_targets, if the file has them
  std::vector<std::string> head_reductions;  // deepmr_reduce, as written (head_reduction.hpp)
  std::vector<GraphNode> nodes;           // nodes[0] is the input
  GraphOutput output;

  // The output tensors in order (depth first), with their names.
  std::vector<NamedOutput> named_outputs() const;
  // The dropout nodes' ids, in order.
  std::vector<int> dropout_nodes() const;

  // The flattened outputs (how runs address them): the output tensors in named_outputs() order,
  // each flattened row-major per example (C x L: channel-major), concatenated. Output k of the
  // model is element k of that concatenation.
  int flat_output_count() const;
  // Their names: "NAME:i" for element i of the output tensor NAME ("counts:0", "0:17", "heads.1:3");
  // empty when the model's output is one lone tensor (its outputs are then addressed by index).
  std::vector<std::string> flat_output_names() const;
};

}  // namespace deepmr::model
