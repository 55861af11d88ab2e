#pragma once
// Mutagenesis engines: the effects (beta, se) of every single-base substitution of one region on
// the requested outputs, under paired-mask Monte Carlo dropout (dropout_masks.hpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deepmr/ism/effects.hpp"
#include "deepmr/model/incremental_network.hpp"
#include "deepmr/model/network.hpp"

namespace deepmr::ism {

struct IsmOptions {
  int mc_samples = 50;        // N; 0 means dropout off
  bool dropout = true;        // off: deterministic f(m) - f(r) in inference mode, se = 0
  // A deep ensemble (model/ensemble_network.hpp; sample n is member n mod K, so mc_samples counts
  // the samples of all members): whether each sample also draws MC dropout masks inside its
  // member. Off: every member in inference mode (K samples are enough).
  bool member_dropout = true;
  std::uint64_t seed = 1;     // run seed: keys the dropout masks
  std::uint64_t region_id = 0;
  int batch = 0;              // full: sequences per forward pass; incremental: mutants per group
                              // (with both strands); 0: chosen for the device (batch_for); never
                              // changes results
  // Test and benchmark hook: when not empty, only the mutants at these window positions (0-based)
  // are evaluated, and Effects lists only them.
  std::vector<int> positions;
  // A split run (several GPUs of a worker): this engine computes only the sample blocks b (of
  // kSampleBlock samples) with b % sample_groups == sample_group, and returns them in
  // Effects::blocks for merge_sample_groups.
  int sample_group = 0, sample_groups = 1;
  // The grouped jackknife over the samples (Effects::jackknife): G groups, 2 <= G <= N; 0 or 1: none.
  int jackknife_groups = 0;
  // Also the correlation of every output's paired differences with those of each of the first
  // `correlation_anchors` outputs, per mutant (Effects::correlation; the psi of second-order MR
  // weights, the anchors a run's outcomes). Never changes beta or se.
  bool correlations = false;
  int correlation_anchors = 1;
  // Checked between samples: when it returns true the engine throws StoppedEarly (a stop request
  // need not wait for the end of a long region).
  std::function<bool()> should_stop;
  // Test hook: called after each sample with its differences (mutant-major, like Effects::beta).
  std::function<void(int sample, const std::vector<double>& differences)> on_sample;
};

// The steps every engine shares (engine_steps.cpp).
// Whether `options` ask for MC dropout (dropout on and N > 0); otherwise one deterministic pass.
bool uses_dropout(const IsmOptions& options);
// What sample n of a region runs under (Network::sample_masks): its member of an ensemble and its
// dropout masks, where it has any.
model::DropoutMasks sample_masks(const model::Network& network, const IsmOptions& options, int sample);
// Whether forward passes of `network` take the sample's masks (MC dropout, or an ensemble's
// member), or nullptr (inference).
bool passes_masks(const model::Network& network, const IsmOptions& options);
// Checks the window's length against the model and the batch size, and returns the Effects with
// its mutants, outputs and sample count filled in (beta and se are the engine's to compute).
Effects start_effects(const model::Network& network, const std::string& sequence, const IsmOptions& options);
// The samples this engine computes under `options` (all of 0..N-1, or its groups' blocks), in order;
// {0} when dropout is off.
std::vector<int> samples_to_compute(const IsmOptions& options);
// The batch an engine uses: options.batch, or for 0 one chosen for the device: 64 on the CPU (the
// kernels' groups run one per thread), and on a GPU every mutant of the window in one group
// (incremental: a few dozen operator launches per sample and region instead of per 64 mutants) or
// 512 sequences per forward pass (full).
int batch_for(const IsmOptions& options, const model::Network& network, bool incremental, int mutants);
// Throws StoppedEarly when options.should_stop says so.
void check_stop(const IsmOptions& options);
// The accumulator of an engine's effects (with the jackknife's groups, when asked for): streaming
// (memory bounded in N) unless the run is split (options.sample_groups > 1).
EffectAccumulator start_accumulator(const Effects& effects, const IsmOptions& options);
// Turns the accumulator into the Effects' beta, se and jackknife, or, in a split run, into its
// blocks and segments.
void finish_effects(const EffectAccumulator& accumulator, const IsmOptions& options, Effects& effects);

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  // sequence: the window, upper case A/C/G/T (N only when the caller's N policy allows it).
  virtual Effects run(const std::string& sequence, const IsmOptions& options) = 0;
  // Time and multiply-accumulates per stage (layer) summed over the runs so far, for benchmarks;
  // empty for engines that do not measure them.
  virtual std::vector<model::StageCost> costs() const { return {}; }
};

// The exact baseline: full forward passes of the reference and of every mutant, per sample.
std::unique_ptr<Engine> make_full_forward_engine(model::Network& network);

// The incremental engine (docs/performance.md): layers before the first dropout once per region,
// then per sample one reference pass and, per mutant, only the columns its substitution can reach,
// as differences through the linear layers. Equal to the full engine up to float32 rounding, and
// bitwise reproducible on the kernels backend. Throws ModelError when the model has no
// incremental form (supports_incremental).
std::unique_ptr<Engine> make_incremental_engine(model::Network& network, const model::IncrementalOptions& options = {});

// Whether the incremental engine can run this stack on some backend; if not, says why in *reason
// (when given). make_engine also asks the network's backend (model::incremental_unsupported_reason):
// a graph on the kernels backend runs on the full engine.
bool supports_incremental(const model::LayerStack& stack, std::string* reason = nullptr);

// The engine called `name` for `network`: "full", "incremental", or "auto" (incremental when the
// stack allows it on the network's backend, else full); benchmarks also accept "incremental-dense" (incremental without
// skipping zero difference rows: the same bits, to measure what the skipping saves). Throws
// UsageError for other names. `network` must outlive it. `incremental`: the incremental engines'
// options (skip_zero_deltas follows the name).
std::unique_ptr<Engine> make_engine(const std::string& name, model::Network& network,
                                    const model::IncrementalOptions& incremental = {});
// UsageError naming `option` unless name is full, incremental or auto (or, with `benchmark`,
// incremental-dense); checked before a model loads.
void check_engine_name(const std::string& name, const std::string& option, bool benchmark = false);

}  // namespace deepmr::ism
