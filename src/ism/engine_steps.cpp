// The steps every engine shares around its own evaluation: checking the window and options,
// listing the mutants, choosing the samples (all of them, or a split run's blocks), checking for a
// stop, and handing the results back.

#include <algorithm>

#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/ism/mutants.hpp"

namespace deepmr::ism {

bool uses_dropout(const IsmOptions& options) { return options.dropout && options.mc_samples > 0; }

model::DropoutMasks sample_masks(const model::Network& network, const IsmOptions& options, int sample) {
  const bool masks = uses_dropout(options) && (options.member_dropout || network.members() == 1);
  return network.sample_masks(options.seed, options.region_id, static_cast<std::uint32_t>(sample), masks);
}

bool passes_masks(const model::Network& network, const IsmOptions& options) {
  return uses_dropout(options) || network.members() > 1;
}

int batch_for(const IsmOptions& options, const model::Network& network, bool incremental, int mutants) {
  if (options.batch > 0) return options.batch;
  if (network.device().kind != model::Device::Kind::cuda) return 64;
  return incremental ? std::max(1, mutants) : 512;
}

Effects start_effects(const model::Network& network, const std::string& sequence, const IsmOptions& options) {
  const int length = network.stack().options.input_length;
  if (static_cast<int>(sequence.size()) != length)
    throw InputError("the window has " + std::to_string(sequence.size()) + " bases but the model takes " +
                     std::to_string(length));
  if (options.batch < 0) throw UsageError("batch size must be at least 1 (or 0: chosen for the device)");
  Effects effects;
  effects.mutants = enumerate_mutants(sequence, options.positions);
  effects.outputs = network.outputs();
  effects.samples = uses_dropout(options) ? options.mc_samples : 0;
  if (options.jackknife_groups > 1 && effects.samples > 0) {
    if (options.jackknife_groups > effects.samples)
      throw UsageError("the jackknife needs at most one group per sample: " + std::to_string(options.jackknife_groups) +
                       " groups of " + std::to_string(effects.samples) + " samples");
    effects.jackknife_groups = options.jackknife_groups;
  }
  effects.with_correlation = options.correlations && effects.samples > 0;
  if (effects.with_correlation) {
    if (options.correlation_anchors < 1 || options.correlation_anchors > static_cast<int>(effects.outputs.size()))
      throw InternalError("correlations with " + std::to_string(options.correlation_anchors) + " anchors of " +
                          std::to_string(effects.outputs.size()) + " outputs");
    effects.correlation_anchors = options.correlation_anchors;
  }
  return effects;
}

std::vector<int> samples_to_compute(const IsmOptions& options) {
  if (!uses_dropout(options)) return {0};
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

EffectAccumulator start_accumulator(const Effects& effects, const IsmOptions& options) {
  // A part of a split run hands its block states over (finish_effects); a whole run merges each
  // as it completes, so its memory does not grow with N.
  return EffectAccumulator(effects.mutants.size() * effects.outputs.size(), effects.jackknife_groups, effects.samples,
                           effects.with_correlation ? static_cast<int>(effects.outputs.size()) : 0,
                           std::max(1, effects.correlation_anchors), options.sample_groups > 1);
}

void finish_effects(const EffectAccumulator& accumulator, const IsmOptions& options, Effects& effects) {
  if (options.sample_groups > 1) {
    effects.blocks = accumulator.blocks();
    effects.segments = accumulator.segments();
    return;
  }
  accumulator.finish(effects.beta, effects.se, effects.correlation);  // correlation stays empty without co-moments
  effects.jackknife = accumulator.jackknife();
}

}  // namespace deepmr::ism
