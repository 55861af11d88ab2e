#include "deepmr/model/graph.hpp"

#include "deepmr/common/error.hpp"

namespace deepmr::model {

std::string op_name(OpKind kind) {
  switch (kind) {
    case OpKind::input: return "input";
    case OpKind::conv: return "conv";
    case OpKind::conv_transpose: return "conv_transpose";
    case OpKind::max_pool: return "max_pool";
    case OpKind::avg_pool: return "avg_pool";
    case OpKind::mean: return "mean";
    case OpKind::max: return "max";
    case OpKind::logsumexp: return "logsumexp";
    case OpKind::relu: return "relu";
    case OpKind::elu: return "elu";
    case OpKind::gelu: return "gelu";
    case OpKind::softplus: return "softplus";
    case OpKind::sigmoid: return "sigmoid";
    case OpKind::tanh: return "tanh";
    case OpKind::exp: return "exp";
    case OpKind::threshold: return "threshold";
    case OpKind::batch_norm: return "batch_norm";
    case OpKind::add_constant: return "add_constant";
    case OpKind::sub_constant: return "sub_constant";
    case OpKind::mul_constant: return "mul_constant";
    case OpKind::div_constant: return "div_constant";
    case OpKind::add: return "add";
    case OpKind::sub: return "sub";
    case OpKind::concat: return "concat";
    case OpKind::crop: return "crop";
    case OpKind::flatten: return "flatten";
    case OpKind::linear: return "linear";
    case OpKind::softmax: return "softmax";
    case OpKind::log_softmax: return "log_softmax";
    case OpKind::dropout: return "dropout";
  }
  throw InternalError("op_name: unknown OpKind " + std::to_string(static_cast<int>(kind)));
}

std::int64_t GraphTensor::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<double> GraphTensor::to_double() const {
  if (float64) return f64;
  return std::vector<double>(f32.begin(), f32.end());
}

namespace {

void collect(const GraphOutput& out, const std::string& name, std::vector<NamedOutput>& named) {
  if (out.kind == GraphOutput::Kind::tensor) {
    named.push_back({name, out.node});
    return;
  }
  for (std::size_t i = 0; i < out.elements.size(); ++i) {
    const std::string part = out.kind == GraphOutput::Kind::dict ? out.keys.at(i) : std::to_string(i);
    collect(out.elements[i], name.empty() ? part : name + "." + part, named);
  }
}

}  // namespace

std::vector<NamedOutput> Graph::named_outputs() const {
  std::vector<NamedOutput> named;
  collect(output, "", named);
  return named;
}

std::vector<int> Graph::dropout_nodes() const {
  std::vector<int> ids;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].kind == OpKind::dropout) ids.push_back(static_cast<int>(i));
  return ids;
}

namespace {
std::int64_t per_example(const GraphNode& node) {
  std::int64_t size = 1;
  for (auto d : node.dims) size *= d;
  return size;
}
}  // namespace

int Graph::flat_output_count() const {
  std::int64_t total = 0;
  for (const auto& named : named_outputs()) total += per_example(nodes.at(static_cast<std::size_t>(named.node)));
  return static_cast<int>(total);
}

std::vector<std::string> Graph::flat_output_names() const {
  const auto named = named_outputs();
  std::vector<std::string> names;
  if (named.size() == 1 && named.front().name.empty()) return names;
  for (const auto& out : named) {
    const std::int64_t size = per_example(nodes.at(static_cast<std::size_t>(out.node)));
    for (std::int64_t i = 0; i < size; ++i) names.push_back(out.name + ":" + std::to_string(i));
  }
  return names;
}

}  // namespace deepmr::model
