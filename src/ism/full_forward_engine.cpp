// The full-forward engine: for every sample, a forward pass of the reference and of each of the 3L
// mutants (and of their reverse complements when the model averages strands). Slow, simple and
// exact: the reference the incremental engine is checked against.

#include <algorithm>
#include <cstring>

#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/reverse_complement.hpp"
#include "deepmr/ism/engine.hpp"

namespace deepmr::ism {

namespace {

class FullForwardEngine : public Engine {
 public:
  explicit FullForwardEngine(model::Network& network)
      : network_(network), alphabet_(genome::Alphabet::parse(network.stack().options.alphabet)) {}
  std::string name() const override { return "full"; }

  Effects run(const std::string& sequence, const IsmOptions& options) override {
    const auto& stack = network_.stack();
    const int length = stack.options.input_length;
    Effects effects = start_effects(network_, sequence, options);
    const int n_mutants = static_cast<int>(effects.mutants.size());
    const int n_outputs = static_cast<int>(effects.outputs.size());
    const int batch = batch_for(options, network_, false, n_mutants);
    const std::size_t one = static_cast<std::size_t>(4) * length;

    // Reference one-hot of both strands; a mutant's input is a copy with one column changed.
    // N reaches the engine only when the caller's N policy keeps it: 0.25 in every channel.
    const bool both_strands = stack.options.reverse_complement_average;
    std::vector<float> reference(one), reference_rc;
    genome::encode_one_hot(sequence, alphabet_, genome::NPolicy::quarter, reference.data());
    if (both_strands) {
      reference_rc.resize(one);
      genome::encode_one_hot(genome::reverse_complement(sequence), alphabet_, genome::NPolicy::quarter,
                             reference_rc.data());
    }

    EffectAccumulator accumulator = start_accumulator(effects, options);
    std::vector<double> differences(accumulator.cells());
    std::vector<float> inputs, outputs, outputs_rc;
    std::vector<float> reference_out(n_outputs);

    for (int n : samples_to_compute(options)) {
      check_stop(options);
      const model::DropoutMasks masks = sample_masks(network_, options, n);  // and an ensemble's member
      const model::DropoutMasks* mask_ptr = passes_masks(network_, options) ? &masks : nullptr;

      // Row -1 is the reference; rows 0.. are mutants. One batch holds at most options.batch rows.
      for (int first = -1; first < n_mutants; first += batch) {
        const int rows = std::min(batch, n_mutants - first);
        predict(first, rows, effects.mutants, reference, reference_rc, length, both_strands, mask_ptr, inputs, outputs,
                outputs_rc);
        for (int r = 0; r < rows; ++r) {
          const int m = first + r;
          const float* out = outputs.data() + static_cast<std::size_t>(r) * n_outputs;
          if (m < 0) {
            std::copy(out, out + n_outputs, reference_out.begin());
            continue;
          }
          for (int o = 0; o < n_outputs; ++o)
            differences[static_cast<std::size_t>(m) * n_outputs + o] =
                static_cast<double>(out[o]) - static_cast<double>(reference_out[o]);
        }
      }
      accumulator.add(differences.data(), n);
      if (options.on_sample) options.on_sample(n, differences);
    }
    finish_effects(accumulator, options, effects);
    return effects;
  }

 private:
  // Forward pass of rows [first, first + rows) (row -1: the reference), strand-averaged if asked.
  void predict(int first, int rows, const std::vector<Mutant>& mutants, const std::vector<float>& reference,
               const std::vector<float>& reference_rc, int length, bool both_strands, const model::DropoutMasks* masks,
               std::vector<float>& inputs, std::vector<float>& outputs, std::vector<float>& outputs_rc) {
    const std::size_t one = static_cast<std::size_t>(4) * length;
    const int n_outputs = static_cast<int>(network_.outputs().size());
    inputs.resize(one * rows);
    outputs.resize(static_cast<std::size_t>(rows) * n_outputs);
    auto fill = [&](const std::vector<float>& base, bool reverse) {
      for (int r = 0; r < rows; ++r) {
        float* x = inputs.data() + one * r;
        std::memcpy(x, base.data(), sizeof(float) * one);
        const int m = first + r;
        if (m < 0) continue;
        const Mutant& mutant = mutants[m];
        const int position = reverse ? length - 1 - mutant.position : mutant.position;
        const int channel = reverse ? alphabet_.complement(alphabet_.channel(mutant.alt)) : alphabet_.channel(mutant.alt);
        for (int c = 0; c < 4; ++c) x[c * length + position] = 0.0f;
        x[channel * length + position] = 1.0f;
      }
    };
    fill(reference, false);
    network_.forward(inputs.data(), rows, masks, outputs.data());
    if (!both_strands) return;
    fill(reference_rc, true);
    outputs_rc.resize(outputs.size());
    network_.forward(inputs.data(), rows, masks, outputs_rc.data());
    for (std::size_t i = 0; i < outputs.size(); ++i) outputs[i] = (outputs[i] + outputs_rc[i]) / 2.0f;
  }

  model::Network& network_;
  genome::Alphabet alphabet_;
};

}  // namespace

std::unique_ptr<Engine> make_full_forward_engine(model::Network& network) {
  return std::make_unique<FullForwardEngine>(network);
}

}  // namespace deepmr::ism
