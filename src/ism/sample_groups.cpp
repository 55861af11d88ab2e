// Which samples an engine computes, and what it hands back, in a run split across devices.

#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"

namespace deepmr::ism {

std::vector<int> samples_to_compute(const IsmOptions& options) {
  if (options.sample_groups < 1 || options.sample_group < 0 || options.sample_group >= options.sample_groups)
    throw InternalError("sample group " + std::to_string(options.sample_group) + " of " +
                        std::to_string(options.sample_groups));
  std::vector<int> samples;
  for (int n = 0; n < options.mc_samples; ++n)
    if ((n / kSampleBlock) % options.sample_groups == options.sample_group) samples.push_back(n);
  return samples;
}

void check_stop(const IsmOptions& options) {
  if (options.should_stop && options.should_stop()) throw StoppedEarly("stop requested during a region");
}

void finish_effects(const EffectAccumulator& accumulator, const IsmOptions& options, Effects& effects) {
  if (options.sample_groups > 1) {
    effects.blocks = accumulator.blocks();
    return;
  }
  accumulator.finish(effects.beta, effects.se);
}

}  // namespace deepmr::ism
