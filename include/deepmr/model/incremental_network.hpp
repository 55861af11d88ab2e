#pragma once
// Incremental forward passes: many variants of a few reference inputs, each differing from its
// reference in one input column, computed exactly but only where the change can reach.
//
// Per variant, every activation is carried only over the window of columns the change can reach
// (the hull, snapped to pooling blocks); linear layers see it as a difference from the reference:
//   convolution:  new = reference + sum over taps of W_t (x_new - x_ref), on the changed columns
//   first Linear: new = reference + sum over changed columns w of W_w (x_new - x_ref)[w]
// and activations, pooling and dropout apply to the new values as in a full pass. Layers before the
// first dropout are the same in every Monte Carlo sample, so they run once per region; each sample
// then needs one reference pass and the variants' windows from the first dropout on.
//
// Exact up to float32 rounding: the reference pass is the full pass itself, the variant's result
// differs from a full pass of it only in the order of rounding (docs/performance.md). The kernels
// implementation is bitwise reproducible: each element is a fixed chain of operations that does
// not depend on the groups, the thread count or the ISA. The torch implementation (the GPU path)
// runs the same plan through LibTorch operators.
//
// Several Monte Carlo samples in one pass (samples_per_pass() > 1, the torch implementation: on a
// GPU one small sample is a few dozen operator launches on small tensors, which leave it idle):
// set_samples(masks of S samples) runs the S x count reference passes as one batch, each under its
// own sample's masks, and evaluate() replicates every group's variant rows S times, each copy
// reading its own sample's reference rows and masks; the layers before the first dropout are still
// computed once per region. Outputs are sample-major (sample s's block, then sample s + 1's). Each
// sample's outputs equal a pass of that sample alone to float32 rounding (docs/performance.md says
// how close, measured).

#include <memory>
#include <string>
#include <vector>

#include "deepmr/model/dropout_masks.hpp"
#include "deepmr/model/layer_stack.hpp"
#include "deepmr/model/network.hpp"

namespace deepmr::model {

// Variants evaluated together: variant i is reference `reference[i]` with input column `column[i]`
// replaced by values[i * channels .. (i + 1) * channels).
struct VariantGroup {
  std::vector<int> reference;
  std::vector<int> column;
  std::vector<float> values;
  int size() const { return static_cast<int>(column.size()); }
};

// Time and multiply-accumulates spent in one part of the computation (a layer, the reference
// passes, per-sample weight packing), summed over calls and over threads (thread-seconds): the
// per-layer split of `deepmr bench ism`.
struct StageCost {
  std::string stage;
  double seconds = 0;
  double macs = 0;
  // The differences a linear layer received (entries and rows: one row per changed column of a
  // variant), how many were exactly zero, and the multiply-accumulates skipped for zero rows.
  double delta_entries = 0, zero_entries = 0, delta_rows = 0, zero_rows = 0, skipped_macs = 0;
};

struct IncrementalOptions {
  // Skip what exact zeros in the differences make zero: rows that are zero in every channel (a
  // changed column whose every channel came back to the reference's value after an activation or
  // a pooling) are not multiplied at all, rows with few nonzeros only at their nonzeros
  // (model::sparse_gemm). Exact: a zero adds +0 to a chain, which changes no bit (gemm.hpp,
  // docs/performance.md). Off only to measure what it saves. Needs finite weights (a layer with an
  // infinite or NaN weight is always multiplied whole).
  bool skip_zero_deltas = true;
  // A row goes sparse when its nonzeros times this is at most its width: what a nonzero costs in
  // sparse_gemm, in multiply-accumulates of the dense product (measured: docs/performance.md).
  // Tests set 0 (every nonzero row sparse) and a huge value (none) to compare the bits.
  double sparse_row_cost = 4;
  // Monte Carlo samples the torch implementation evaluates in one pass (samples_per_pass()); the
  // kernels implementation always takes one. 0: automatic -- 1 on CPU (where a pass of one sample
  // already keeps the cores busy), on CUDA as many as keep the largest intermediate tensor of the
  // region's largest group under pass_megabytes (at most 64). Memory and speed only: each sample's
  // outputs equal its pass alone to float32 rounding (not bitwise: docs/performance.md).
  int samples_per_pass = 0;
  // The automatic choice's budget: the bytes of the largest intermediate tensor of one pass of a
  // group (a pass holds a few of them at once), in MiB.
  double pass_megabytes = 1024;
};

class IncrementalNetwork {
 public:
  virtual ~IncrementalNetwork() = default;
  // Starts a region: `count` reference inputs (count x channels x length, e.g. the two strands) and
  // the groups of variants to evaluate; computes the layers before the first dropout for all of
  // them. Every variant's column must reach the output (change_reaches_output).
  virtual void set_region(const float* references, int count, std::vector<VariantGroup> groups) = 0;
  // Starts a Monte Carlo sample: the reference passes under `masks` (nullptr: dropout off). The
  // masks are copied. The same as set_samples({masks}).
  virtual void set_sample(const DropoutMasks* masks) = 0;
  // How many samples one pass may evaluate (set_samples), for the current region: valid after
  // set_region. The kernels implementation: 1.
  virtual int samples_per_pass() const { return 1; }
  // Starts S = masks.size() Monte Carlo samples at once, 1 <= S <= samples_per_pass(): sample s runs
  // under *masks[s] (nullptr: dropout off; all or none of them null). The masks are copied.
  virtual void set_samples(const std::vector<const DropoutMasks*>& masks);
  // The references' outputs in the current samples: S x count x outputs().size().
  virtual void reference_outputs(float* out) = 0;
  // The outputs of every variant in the current samples, per sample group after group: S x
  // variants x outputs().size(). The kernels implementation spreads the groups over the compute
  // threads.
  virtual void evaluate(float* out) = 0;
  virtual std::vector<StageCost> costs() const = 0;
  virtual std::string description() const = 0;
  const std::vector<int>& outputs() const { return outputs_; }

 protected:
  IncrementalNetwork(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs)
      : stack_(std::move(stack)), outputs_(std::move(outputs)) {}
  std::shared_ptr<const LayerStack> stack_;
  std::vector<int> outputs_;
};

// Why the stack cannot run incrementally, or "" when it can (on some backend).
std::string incremental_unsupported_reason(const LayerStack& stack);
// Why the stack cannot run incrementally on `backend`, or "" when it can: the above, and a graph
// model's incremental network runs on the torch backend only (on the kernels backend a graph runs
// on the full engine), one line.
std::string incremental_unsupported_reason(const LayerStack& stack, Backend backend);

// Whether changing input column `column` can change any output. A column that cannot (DeepSEA's
// positions 995..999) leaves every output exactly equal to the reference's.
bool change_reaches_output(const LayerStack& stack, int column);

// The incremental counterpart of `network` (same stack, outputs, device and backend). The kernels
// implementation runs its reference passes through `network`, which must outlive it.
std::unique_ptr<IncrementalNetwork> make_incremental_network(Network& network, const IncrementalOptions& options = {});

}  // namespace deepmr::model
