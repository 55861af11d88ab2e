#pragma once
// Internal to the model layer: the incremental network for graph models on LibTorch operators
// (incremental_graph_torch.cpp). No LibTorch types in this header.

#include <memory>
#include <string>
#include <vector>

#include "deepmr/model/incremental_network.hpp"

namespace deepmr::model {

struct Graph;

// Why the graph cannot run incrementally ("" when it can): names the node.
std::string graph_incremental_unsupported_reason(const Graph& graph);
// Whether changing input column `column` can change one of the graph's outputs (conservative:
// true when unsure).
bool graph_change_reaches_output(const Graph& graph, int column);

std::unique_ptr<IncrementalNetwork> make_incremental_graph_torch(std::shared_ptr<const LayerStack> stack,
                                                                 std::vector<int> outputs, const Device& device,
                                                                 const IncrementalOptions& options = {});

}  // namespace deepmr::model
