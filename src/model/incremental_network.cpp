#include "deepmr/model/incremental_network.hpp"

#include "change_reach.hpp"
#include "deepmr/common/error.hpp"
#include "incremental_kernels.hpp"
#include "incremental_torch.hpp"
#include "kernel_network.hpp"
#include "torch_network.hpp"

namespace deepmr::model {

std::string incremental_unsupported_reason(const LayerStack& stack) {
  if (stack.graph) return "the model is a graph (not an nn.Sequential layer stack)";
  if (stack.layers.empty()) return "the model has no layers";
  for (const Layer& layer : stack.layers) {
    switch (layer.kind) {
      case LayerKind::conv:
        if (layer.kernel < 1 || layer.stride < 1 || layer.dilation < 1)
          return "layer '" + layer.path + "' has a kernel, stride or dilation below 1";
        break;
      case LayerKind::max_pool:
      case LayerKind::avg_pool:
        if (layer.kernel < 1) return "layer '" + layer.path + "' pools fewer than one column";
        break;
      case LayerKind::relu:
      case LayerKind::threshold:
      case LayerKind::elu:
      case LayerKind::sigmoid:
      case LayerKind::batch_norm:
      case LayerKind::dropout:
      case LayerKind::flatten:
      case LayerKind::linear: break;
      default: return "layer '" + layer.path + "' (" + kind_name(layer.kind) + ") has no incremental form";
    }
  }
  return "";
}

bool change_reaches_output(const LayerStack& stack, int column) { return !detail::reach(stack, column).empty(); }

std::unique_ptr<IncrementalNetwork> make_incremental_network(Network& network, const IncrementalOptions& options) {
  const std::string reason = incremental_unsupported_reason(network.stack());
  if (!reason.empty()) throw ModelError(network.stack().source + ": no incremental evaluation: " + reason);
  if (auto* kernels = dynamic_cast<KernelNetwork*>(&network)) return std::make_unique<IncrementalKernels>(*kernels, options);
  return make_incremental_torch(network.shared_stack(), network.outputs(), network.device());
}

}  // namespace deepmr::model
