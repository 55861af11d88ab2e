#include "deepmr/model/incremental_network.hpp"

#include <algorithm>

#include "change_reach.hpp"
#include "deepmr/model/ensemble_network.hpp"
#include "deepmr/common/error.hpp"
#include "incremental_graph_torch.hpp"
#include "incremental_kernels.hpp"
#include "incremental_torch.hpp"
#include "kernel_network.hpp"
#include "torch_network.hpp"

namespace deepmr::model {

std::string incremental_unsupported_reason(const LayerStack& stack) {
  if (stack.graph) return graph_incremental_unsupported_reason(*stack.graph);
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

std::string incremental_unsupported_reason(const LayerStack& stack, Backend backend) {
  if (stack.graph && backend == Backend::kernels)
    return "graphs run incrementally on the torch backend only, and this one runs on the kernels backend "
           "(--backend torch)";
  return incremental_unsupported_reason(stack);
}

void IncrementalNetwork::set_samples(const std::vector<const DropoutMasks*>& masks) {
  if (masks.size() != 1)
    throw InternalError("incremental network: " + std::to_string(masks.size()) +
                        " samples in one pass, where this implementation takes one");
  set_sample(masks.front());
}

bool change_reaches_output(const LayerStack& stack, int column) {
  if (stack.graph) return graph_change_reaches_output(*stack.graph, column);
  return !detail::reach(stack, column).empty();
}

namespace {

// A deep ensemble's incremental network: one per member, each with the region's prefix; a sample
// runs on its member's (DropoutMasks::member), one sample per pass. A member gets only the variants
// whose column reaches its output (members may differ in shape); the others keep its reference's
// outputs, exactly, as the engine does for columns that reach no member.
class EnsembleIncremental final : public IncrementalNetwork {
 public:
  EnsembleIncremental(Network& ensemble, std::vector<std::unique_ptr<IncrementalNetwork>> members,
                      std::vector<const LayerStack*> stacks)
      : IncrementalNetwork(ensemble.shared_stack(), ensemble.outputs()),
        members_(std::move(members)),
        stacks_(std::move(stacks)),
        reaching_(members_.size()) {}
  void set_region(const float* references, int count, std::vector<VariantGroup> groups) override {
    count_ = count;
    variant_references_.clear();
    for (const auto& group : groups) variant_references_.insert(variant_references_.end(), group.reference.begin(), group.reference.end());
    const std::size_t channels = groups.empty() || groups.front().size() == 0
                                     ? 0
                                     : groups.front().values.size() / static_cast<std::size_t>(groups.front().size());
    for (std::size_t k = 0; k < members_.size(); ++k) {
      reaching_[k].assign(variant_references_.size(), false);
      std::vector<VariantGroup> kept;
      std::size_t index = 0;
      for (const auto& group : groups) {
        VariantGroup part;
        for (int i = 0; i < group.size(); ++i, ++index) {
          if (!change_reaches_output(*stacks_[k], group.column[static_cast<std::size_t>(i)])) continue;
          reaching_[k][index] = true;
          part.reference.push_back(group.reference[static_cast<std::size_t>(i)]);
          part.column.push_back(group.column[static_cast<std::size_t>(i)]);
          part.values.insert(part.values.end(), group.values.begin() + static_cast<std::ptrdiff_t>(i * channels),
                             group.values.begin() + static_cast<std::ptrdiff_t>((i + 1) * channels));
        }
        if (part.size() > 0) kept.push_back(std::move(part));
      }
      members_[k]->set_region(references, count, std::move(kept));
    }
  }
  void set_sample(const DropoutMasks* masks) override {
    current_ = static_cast<std::size_t>(masks ? masks->member : 0);
    members_.at(current_)->set_sample(masks && !masks->layers.empty() ? masks : nullptr);
  }
  void reference_outputs(float* out) override { members_.at(current_)->reference_outputs(out); }
  void evaluate(float* out) override {
    const std::size_t n = outputs_.size();
    const auto& reaching = reaching_[current_];
    std::vector<float> references(static_cast<std::size_t>(count_) * n);
    members_[current_]->reference_outputs(references.data());
    std::vector<float> evaluated(static_cast<std::size_t>(std::count(reaching.begin(), reaching.end(), true)) * n);
    members_[current_]->evaluate(evaluated.data());
    const float* next = evaluated.data();
    for (std::size_t i = 0; i < reaching.size(); ++i, out += n) {
      const float* from = reaching[i] ? next : references.data() + static_cast<std::size_t>(variant_references_[i]) * n;
      std::copy_n(from, n, out);
      if (reaching[i]) next += n;
    }
  }
  std::vector<StageCost> costs() const override {  // the members' stages, each summed over the members
    std::vector<StageCost> total;
    for (const auto& member : members_)
      for (const StageCost& cost : member->costs()) {
        auto same = std::find_if(total.begin(), total.end(), [&](const StageCost& c) { return c.stage == cost.stage; });
        if (same == total.end()) {
          total.push_back(cost);
          continue;
        }
        same->seconds += cost.seconds;
        same->macs += cost.macs;
        same->delta_entries += cost.delta_entries;
        same->zero_entries += cost.zero_entries;
        same->delta_rows += cost.delta_rows;
        same->zero_rows += cost.zero_rows;
        same->skipped_macs += cost.skipped_macs;
      }
    return total;
  }
  std::string description() const override {
    return "ensemble of " + std::to_string(members_.size()) + " members, " + members_.front()->description();
  }

 private:
  std::vector<std::unique_ptr<IncrementalNetwork>> members_;
  std::vector<const LayerStack*> stacks_;
  std::vector<std::vector<bool>> reaching_;  // per member, per variant (in group order): evaluated by it
  std::vector<int> variant_references_;      // per variant: its reference
  int count_ = 0;
  std::size_t current_ = 0;
};

}  // namespace

std::unique_ptr<IncrementalNetwork> make_incremental_network(Network& network, const IncrementalOptions& options) {
  if (const auto members = ensemble_members(network); !members.empty()) {
    std::vector<std::unique_ptr<IncrementalNetwork>> incremental;
    for (Network* member : members) incremental.push_back(make_incremental_network(*member, options));
    return std::make_unique<EnsembleIncremental>(network, std::move(incremental), network.member_stacks());
  }
  const std::string reason = incremental_unsupported_reason(network.stack(), network.backend());
  if (!reason.empty()) throw ModelError(network.stack().label() + ": no incremental evaluation: " + reason);
  if (network.stack().graph)  // graphs run incrementally on the torch backend only
    return make_incremental_graph_torch(network.shared_stack(), network.outputs(), network.device(), options);
  if (auto* kernels = dynamic_cast<KernelNetwork*>(&network)) return std::make_unique<IncrementalKernels>(*kernels, options);
  return make_incremental_torch(network.shared_stack(), network.outputs(), network.device(), options);
}

}  // namespace deepmr::model
