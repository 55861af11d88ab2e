#include "deepmr/model/head_reduction.hpp"

#include <set>

#include "deepmr/common/error.hpp"

namespace deepmr::model {
namespace {

// The output tensor named `name` (Graph::named_outputs' names), or nullptr.
GraphOutput* find_output(GraphOutput& out, const std::string& prefix, const std::string& name) {
  if (out.kind == GraphOutput::Kind::tensor) return prefix == name ? &out : nullptr;
  for (std::size_t i = 0; i < out.elements.size(); ++i) {
    const std::string part = out.kind == GraphOutput::Kind::dict ? out.keys.at(i) : std::to_string(i);
    if (auto* found = find_output(out.elements[i], prefix.empty() ? part : prefix + "." + part, name)) return found;
  }
  return nullptr;
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 12 && text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

HeadReduction parse_head_reduction(const std::string& text, const std::string& where) {
  const auto fail = [&] {
    return UsageError(where + ": '" + text +
                      "' should be HEAD=KIND[:FROM-TO], KIND sum, mean or logsumexp, FROM-TO 0-based inclusive "
                      "positions (e.g. profile=sum:400-599)");
  };
  HeadReduction r;
  const auto eq = text.find('=');  // an empty HEAD: the model's one lone output tensor
  if (eq == std::string::npos) throw fail();
  r.head = text.substr(0, eq);
  std::string kind = text.substr(eq + 1), window;
  if (const auto colon = kind.find(':'); colon != std::string::npos) {
    window = kind.substr(colon + 1);
    kind = kind.substr(0, colon);
  }
  if (kind == "sum") r.kind = HeadReduction::Kind::sum;
  else if (kind == "mean") r.kind = HeadReduction::Kind::mean;
  else if (kind == "logsumexp") r.kind = HeadReduction::Kind::logsumexp;
  else throw fail();
  if (!window.empty()) {
    const auto dash = window.find('-');
    if (dash == std::string::npos || !all_digits(window.substr(0, dash)) || !all_digits(window.substr(dash + 1)))
      throw fail();
    r.first = std::stoll(window.substr(0, dash));
    r.last = std::stoll(window.substr(dash + 1));
    if (r.last < r.first) throw fail();
  }
  return r;
}

void reduce_head(Graph& graph, const HeadReduction& r) {
  GraphOutput* out = find_output(graph.output, "", r.head);
  if (!out) {
    std::string names;
    for (const auto& named : graph.named_outputs()) names += (names.empty() ? "" : ", ") + named.name;
    throw ModelError(graph.source + ": no output tensor named '" + r.head + "' to reduce (the model's: " +
                     (names.empty() ? "one unnamed tensor" : names) + ")");
  }
  for (const auto& node : graph.nodes)
    if (node.torch_op == "deepmr_reduce" && node.module_path == r.head)
      throw ModelError(graph.source + ": output '" + r.head + "' is reduced twice");
  const GraphNode& head = graph.nodes.at(static_cast<std::size_t>(out->node));
  if (head.dims.size() != 2)
    throw ModelError(graph.source + ": output '" + r.head + "' is not channels x length per example, so it has no "
                     "positions to reduce");
  const std::int64_t channels = head.dims[0], length = head.dims[1];
  const std::int64_t first = r.first, last = r.last < 0 ? length - 1 : r.last;
  if (last >= length)
    throw ModelError(graph.source + ": output '" + r.head + "' has " + std::to_string(length) +
                     " positions; the reduction's window " + std::to_string(first) + "-" + std::to_string(last) +
                     " ends past them");
  // The reverse-complement strand's position l is the forward strand's L - 1 - l: its window is
  // the mirror image, the same positions only when the window is centred.
  if (graph.options.reverse_complement_average && first + last != length - 1)
    throw ModelError(graph.source + ": output '" + r.head + "' is reduced over positions " + std::to_string(first) + "-" +
                     std::to_string(last) + ", which the reverse-complement strand sees as " +
                     std::to_string(length - 1 - last) + "-" + std::to_string(length - 1 - first) +
                     "; with strand averaging (--reverse-complement on) centre the window (FROM + TO = " +
                     std::to_string(length - 1) + ") or turn strand averaging off");
  auto append = [&](GraphNode node) {
    node.torch_op = "deepmr_reduce";  // messages name the reduction and its head
    node.module_path = r.head;
    node.inputs = {out->node};
    graph.nodes.push_back(std::move(node));
    out->node = static_cast<int>(graph.nodes.size()) - 1;
  };
  if (first > 0 || last < length - 1) {
    GraphNode crop;
    crop.kind = OpKind::crop;
    crop.start = first;
    crop.end = last + 1;
    crop.dims = {channels, last + 1 - first};
    append(crop);
  }
  GraphNode reduce;
  reduce.kind = r.kind == HeadReduction::Kind::logsumexp ? OpKind::logsumexp : OpKind::mean;
  reduce.axis = 1;
  reduce.keepdim = false;
  reduce.dims = {channels};
  append(reduce);
  if (r.kind == HeadReduction::Kind::sum) {
    GraphNode times;
    times.kind = OpKind::mul_constant;
    times.constant = static_cast<double>(last + 1 - first);
    times.dims = {channels};
    append(times);
  }
}

}  // namespace deepmr::model
