#pragma once
// A profile head reduced to one scalar per task (issue 16): BPNet's profile head predicts a value
// per position and task; MR needs one exposure or outcome per task, e.g. the sum of the profile over
// the central positions. `HEAD=KIND[:FROM-TO]` reduces the output tensor HEAD (channels x length
// per example; its name as in Graph::named_outputs: "profile", "0", "heads.1", or empty for a
// model whose output is one lone tensor: "=sum:400-599") over the length
// positions FROM..TO (0-based, inclusive; default all) by `sum`, `mean` or `logsumexp`, so that
// its outputs become HEAD:0 .. HEAD:C-1, one per task. Declared in the model (metadata
// deepmr_reduce, a list of such texts: scripts/export_model.py --reduce) or by the user
// (model.reduce, --reduce), which replaces the model's.
//
// The reduction is appended to the graph as ordinary nodes (a crop, then a mean over the length,
// times the window's width for a sum, or a logsumexp), so every evaluator of graphs runs it.

#include <cstdint>
#include <string>

#include "deepmr/model/graph.hpp"

namespace deepmr::model {

struct HeadReduction {
  enum class Kind { sum, mean, logsumexp };
  std::string head;
  Kind kind = Kind::sum;
  std::int64_t first = 0, last = -1;  // positions, inclusive; last -1: to the end
};

// Parses "HEAD=sum|mean|logsumexp[:FROM-TO]"; UsageError naming `where` (an option or the model
// file's deepmr_reduce) otherwise.
HeadReduction parse_head_reduction(const std::string& text, const std::string& where);

// Reduces the head in `graph` (ModelError naming the model file when it has no output tensor of
// that name, the tensor is not channels x length, the window falls outside it, or the head is
// reduced twice).
void reduce_head(Graph& graph, const HeadReduction& reduction);

}  // namespace deepmr::model
