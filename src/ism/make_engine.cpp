// Choosing a mutagenesis engine by name (deepmr ism --engine, run configs, the distributed run).

#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/incremental_network.hpp"

namespace deepmr::ism {

bool supports_incremental(const model::LayerStack& stack, std::string* reason) {
  std::string why = model::incremental_unsupported_reason(stack);
  if (reason) *reason = why;
  return why.empty();
}

std::unique_ptr<Engine> make_engine(const std::string& name, model::Network& network,
                                    const model::IncrementalOptions& incremental) {
  if (name == "full") return make_full_forward_engine(network);
  std::string reason;
  bool supported = true;
  std::string source = network.stack().label();
  for (const model::LayerStack* stack : network.member_stacks())  // every member of an ensemble
    if (supported) {
      reason = model::incremental_unsupported_reason(*stack, network.backend());
      if (!(supported = reason.empty())) source = stack->label();
    }
  if (name == "auto") return supported ? make_incremental_engine(network, incremental) : make_full_forward_engine(network);
  if (name == "incremental" || name == "incremental-dense") {
    if (!supported)
      throw ModelError(source + ": the incremental engine cannot run this model: " + reason +
                       " (use --engine full)");
    model::IncrementalOptions options = incremental;
    options.skip_zero_deltas = name == "incremental";
    return make_incremental_engine(network, options);
  }
  throw UsageError("unknown mutagenesis engine '" + name + "' (use full, incremental or auto)");
}

void check_engine_name(const std::string& name, const std::string& option, bool benchmark) {
  if (name != "full" && name != "incremental" && name != "auto" && !(benchmark && name == "incremental-dense"))
    throw UsageError("option '" + option + "': unknown engine '" + name + "' (available: full, incremental, auto" +
                     (benchmark ? ", incremental-dense" : "") + ")");
}

}  // namespace deepmr::ism
