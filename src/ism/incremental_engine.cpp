// The incremental engine: every substitution of a window as a variant of the reference differing
// in one input column, evaluated by model::IncrementalNetwork (incremental_network.hpp), which
// computes only the columns each substitution can reach. The engine decides what is evaluated
// together and how results combine:
//   - one variant per (mutant, strand): on the reverse-complement strand the substitution sits at
//     the mirrored position L - 1 - p and writes the complementary base;
//   - variants sorted by the position they change on their strand, so that a group's windows
//     overlap (both strands share the geometry: the network is the same);
//   - a variant whose column cannot reach the output is not evaluated: its output is the
//     reference's, exactly, and a mutant unreachable on both strands has effects exactly 0;
//   - outputs are strand-averaged and differenced in the same float and double operations as the
//     full engine, and accumulated in sample order;
//   - where the network evaluates several Monte Carlo samples in one pass (samples_per_pass() > 1:
//     the torch implementation on a GPU), the next S samples' masks go into one pass, and each
//     sample's differences are then accumulated in sample order as if computed alone.

#include <algorithm>

#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/reverse_complement.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/incremental_network.hpp"

namespace deepmr::ism {
namespace {

class IncrementalEngine : public Engine {
 public:
  IncrementalEngine(model::Network& network, const model::IncrementalOptions& options)
      : network_(network),
        dense_(!options.skip_zero_deltas),
        incremental_(model::make_incremental_network(network, options)),
        alphabet_(genome::Alphabet::parse(network.stack().options.alphabet)) {}
  std::string name() const override { return dense_ ? "incremental-dense" : "incremental"; }
  std::vector<model::StageCost> costs() const override { return incremental_->costs(); }

  Effects run(const std::string& sequence, const IsmOptions& options) override {
    const auto& stack = network_.stack();
    const int length = stack.options.input_length;
    const bool dropout = uses_dropout(options);
    Effects effects = start_effects(network_, sequence, options);
    const int n_mutants = static_cast<int>(effects.mutants.size());
    const int n_outputs = static_cast<int>(effects.outputs.size());
    const int strands = stack.options.reverse_complement_average ? 2 : 1;
    const int channels = stack.input_channels();

    // The references: forward strand, then the reverse complement (N as 0.25, like the full engine).
    std::vector<float> references(static_cast<std::size_t>(strands) * channels * length);
    genome::encode_one_hot(sequence, alphabet_, genome::NPolicy::quarter, references.data());
    if (strands == 2)
      genome::encode_one_hot(genome::reverse_complement(sequence), alphabet_, genome::NPolicy::quarter,
                             references.data() + static_cast<std::size_t>(channels) * length);

    // Slot m * strands + s: mutant m on strand s; evaluated only when its column reaches the output.
    struct Slot {
      int column, strand, mutant;
    };
    std::vector<Slot> slots;
    for (int m = 0; m < n_mutants; ++m)
      for (int s = 0; s < strands; ++s) {
        const int column = s == 0 ? effects.mutants[m].position : length - 1 - effects.mutants[m].position;
        if (reaches_output(column)) slots.push_back({column, s, m});
      }
    std::stable_sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
      return a.column != b.column ? a.column < b.column : a.strand < b.strand;
    });

    // Groups of `batch` mutants' worth of variants, in that order.
    const std::size_t group_size = static_cast<std::size_t>(batch_for(options, network_, true, n_mutants)) * strands;
    std::vector<model::VariantGroup> groups;
    for (std::size_t first = 0; first < slots.size(); first += group_size) {
      model::VariantGroup group;
      for (std::size_t i = first; i < std::min(slots.size(), first + group_size); ++i) {
        const Slot& slot = slots[i];
        const char alt = effects.mutants[slot.mutant].alt;
        const int channel = slot.strand == 0 ? alphabet_.channel(alt) : alphabet_.complement(alphabet_.channel(alt));
        group.reference.push_back(slot.strand);
        group.column.push_back(slot.column);
        for (int c = 0; c < channels; ++c) group.values.push_back(c == channel ? 1.0f : 0.0f);
      }
      groups.push_back(std::move(group));
    }
    incremental_->set_region(references.data(), strands, std::move(groups));

    // Per pass of S samples: the references' outputs, every variant's, then per sample in order the
    // paired differences.
    EffectAccumulator accumulator = start_accumulator(effects, options);
    std::vector<double> differences(accumulator.cells());
    const std::vector<int> samples = samples_to_compute(options);
    // One model without dropout (or without dropout layers) gives every sample the same outputs; an
    // ensemble's samples differ by member.
    const bool same_every_sample =
        network_.members() == 1 && (!dropout || stack.dropout_rates().empty());  // a graph's sites too
    const bool with_masks = passes_masks(network_, options);
    const std::size_t per_pass =
        same_every_sample ? 1 : static_cast<std::size_t>(std::max(1, incremental_->samples_per_pass()));
    const std::size_t reference_size = static_cast<std::size_t>(strands) * n_outputs;
    const std::size_t slot_size = slots.size() * n_outputs;
    std::vector<float> reference_out(std::min(per_pass, std::max<std::size_t>(samples.size(), 1)) * reference_size);
    std::vector<float> slot_out(reference_out.size() / reference_size * slot_size);
    std::vector<float> variant_out(static_cast<std::size_t>(n_mutants) * strands * n_outputs);
    std::vector<model::DropoutMasks> masks;
    std::vector<const model::DropoutMasks*> pass_masks;
    bool computed = false;
    for (std::size_t first = 0; first < samples.size();) {
      check_stop(options);
      const std::size_t pass = std::min(per_pass, samples.size() - first);
      // Without dropout every sample is the first: computed once.
      const bool compute = !computed || !same_every_sample;
      if (compute) {
        computed = true;
        masks.resize(pass);
        pass_masks.assign(masks.size(), nullptr);
        for (std::size_t s = 0; s < masks.size(); ++s)
          if (with_masks) {
            masks[s] = sample_masks(network_, options, samples[first + s]);  // and an ensemble's member
            pass_masks[s] = &masks[s];
          }
        incremental_->set_samples(pass_masks);
        incremental_->reference_outputs(reference_out.data());
        incremental_->evaluate(slot_out.data());
      }
      for (std::size_t s = 0; s < pass; ++s) {
        if (compute) {
          const float* sample_reference = reference_out.data() + s * reference_size;
          const float* sample_slots = slot_out.data() + s * slot_size;
          // Slots not evaluated keep the reference's outputs.
          for (int m = 0; m < n_mutants; ++m)
            for (int st = 0; st < strands; ++st)
              std::copy_n(sample_reference + static_cast<std::size_t>(st) * n_outputs, n_outputs,
                          variant_out.data() + (static_cast<std::size_t>(m) * strands + st) * n_outputs);
          for (std::size_t i = 0; i < slots.size(); ++i)
            std::copy_n(sample_slots + i * n_outputs, n_outputs,
                        variant_out.data() + (static_cast<std::size_t>(slots[i].mutant) * strands + slots[i].strand) * n_outputs);
          // The full engine's operations: strand average in float, difference in double.
          for (int m = 0; m < n_mutants; ++m)
            for (int o = 0; o < n_outputs; ++o) {
              const float* mutant = variant_out.data() + static_cast<std::size_t>(m) * strands * n_outputs + o;
              float value = mutant[0], reference = sample_reference[o];
              if (strands == 2) {
                value = (mutant[0] + mutant[n_outputs]) / 2.0f;
                reference = (sample_reference[o] + sample_reference[n_outputs + o]) / 2.0f;
              }
              differences[static_cast<std::size_t>(m) * n_outputs + o] =
                  static_cast<double>(value) - static_cast<double>(reference);
            }
        }
        const int n = samples[first + s];
        accumulator.add(differences.data(), n);
        if (options.on_sample) options.on_sample(n, differences);
      }
      first += pass;
    }
    finish_effects(accumulator, options, effects);
    return effects;
  }

 private:
  // Whether changing this input column can change an output (of any member of an ensemble).
  bool reaches_output(int column) const {
    for (const model::LayerStack* stack : network_.member_stacks())
      if (model::change_reaches_output(*stack, column)) return true;
    return false;
  }

  model::Network& network_;
  bool dense_;  // zero difference rows computed anyway (the benchmark's peer)
  std::unique_ptr<model::IncrementalNetwork> incremental_;
  genome::Alphabet alphabet_;
};

}  // namespace

std::unique_ptr<Engine> make_incremental_engine(model::Network& network, const model::IncrementalOptions& options) {
  return std::make_unique<IncrementalEngine>(network, options);
}

}  // namespace deepmr::ism
