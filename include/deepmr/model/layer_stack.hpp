#pragma once
// A sequence model as deepmr understands it: a stack of layers applied in order to one-hot DNA
// (channels x length per example), with its parameters copied out of the TorchScript file.
// No LibTorch types here, so this header stays cheap to include.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deepmr::model {

struct Graph;  // graph.hpp: a model of any architecture (issue 16)

enum class LayerKind { conv, max_pool, avg_pool, relu, threshold, elu, batch_norm, dropout, flatten, linear, sigmoid };

std::string kind_name(LayerKind kind);

// Per-example activation shape: channels x width. After a flatten: features x 1.
struct Shape {
  int channels = 0;
  int width = 0;
  std::int64_t size() const { return static_cast<std::int64_t>(channels) * width; }
};

struct Layer {
  LayerKind kind = LayerKind::relu;
  std::string path;  // submodule path in the TorchScript file, e.g. "net.3"
  std::string type;  // PyTorch class name, e.g. "Conv2d"
  Shape in, out;

  // conv: kernel, stride, dilation, padding on the left and right of the length axis.
  // pools: kernel (= stride).
  int kernel = 1, stride = 1, dilation = 1, pad_left = 0, pad_right = 0;
  // threshold: y = x > threshold ? x : value.  elu: alpha.  dropout: p.
  double threshold = 0, value = 0, alpha = 1, p = 0;

  // conv: out_channels x in_channels x kernel; linear: out_features x in_features (row-major).
  // batch_norm: weight holds the per-channel scale and bias the shift of the folded inference
  // transform y = x * scale + shift.
  std::vector<float> weight, bias;
};

struct ModelOptions {
  std::string alphabet = "ACGT";            // base of input channel c is alphabet[c]
  bool reverse_complement_average = false;  // output = (f(x) + f(revcomp(x))) / 2, as DeepSEA/predict
  int input_length = 0;                     // L
  bool conv2d_layout = false;               // input is N x 4 x 1 x L (Kipoi DeepSEA) rather than N x 4 x L
};

// A loaded model. Either a stack of layers (an nn.Sequential: `layers`, run by every backend and
// engine) or, when `graph` is set, a model of any architecture read as a graph (`layers` empty:
// run by the torch backend's full and incremental engines and the kernels backend's full engine;
// docs/models.md, "Graphs"). `options`,
// `source` and `target_names` are filled for both.
struct LayerStack {
  std::string source;  // the model file
  std::string member;  // in a deep-ensemble file (model_file.hpp): the member's submodule name; else ""
  ModelOptions options;
  std::vector<Layer> layers;
  std::vector<std::string> target_names;  // embedded in the model file, if any (graphs: else the flattened names)
  std::shared_ptr<const Graph> graph;     // set for a graph model

  bool is_graph() const { return graph != nullptr; }
  // The model's name in messages and stores: the file, with "[member]" for a member of an ensemble file.
  std::string label() const { return member.empty() ? source : source + "[" + member + "]"; }
  int input_channels() const;
  // The model's outputs per example: a graph's are its output tensors flattened and concatenated.
  int output_count() const;
  // Indices of the dropout layers, in order (a layer stack's; empty for a graph).
  std::vector<int> dropout_layers() const;
  // The dropout rates of the model's dropout sites (layers or graph nodes), in order.
  std::vector<double> dropout_rates() const;
  // Multiply-accumulates of one forward pass of one example (conv and linear layers).
  double forward_macs() const;
  // Input positions [first, last] that can change the output (positions outside carry no effect:
  // e.g. the last 5 of DeepSEA's 1000, which only feed pooled-away columns).
  std::pair<int, int> live_input_positions() const;
};

// Computes every layer's in/out shape from the input (channels x length) and checks that the stack
// is well formed; throws ModelError naming the layer path otherwise.
void infer_shapes(LayerStack& stack, int input_channels, int input_length);

// The input lengths the stack accepts, [first, last]: a Linear layer after a flatten fixes a
// range (pooling floors make several lengths fit); {1, max} for a fully convolutional stack;
// {0, -1} when no length fits.
std::pair<int, int> accepted_input_lengths(LayerStack stack, int input_channels);

}  // namespace deepmr::model
