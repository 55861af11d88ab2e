#pragma once
// Per-mutant effect sizes of one region and the streaming accumulator that produces them.
//
// For mutant m, output t and paired samples n = 1..N with d_n = f_t(m; theta_n) - f_t(r; theta_n):
//   beta = mean_n d_n,   se = sqrt(mean_n d_n^2 - beta^2)   (the Deep MR paper's formula: the
// spread of the paired difference, population moments, no division by N).
//
// Accumulated in double, streaming over samples (memory does not grow with N), in fixed blocks of
// kSampleBlock consecutive samples: Welford's update within a block, then the blocks merged in
// block order (Chan et al.'s pairwise formula). The blocks are the unit of a split across devices:
// whichever device computes a block, the merge order is the same, so the bits are too.

#include <cstdint>
#include <vector>

#include "deepmr/ism/mutants.hpp"

namespace deepmr::ism {

inline constexpr int kSampleBlock = 8;

// Mean and sum of squared deviations of every cell over one block's samples (a segment: over the
// samples of one block that lie in one jackknife group); with correlations, also every cell's sum
// of cross-deviations with each anchor output a (the first outputs: 0, 1, ...) of the same mutant,
// its co-moments, [a * cells + cell] (empty otherwise).
struct BlockState {
  int block = 0;
  int count = 0;
  std::vector<double> mean, m2;
  int group = 0;  // segments only: the jackknife group
  std::vector<double> cross;
};

// Block states merged in order (Chan et al.'s pairwise formula): their mean, M2 and co-moments so
// far. merge() adds the next state (a state without samples changes nothing; the first is copied).
struct Moments {
  Moments() = default;
  Moments(std::size_t cells, std::size_t anchors);  // nothing merged: zeros
  void merge(const BlockState& state, std::size_t cells, int outputs);
  // beta, se and, with outputs > 0, the correlations (Effects::correlation's layout).
  void finish(std::size_t cells, int outputs, std::vector<double>& beta, std::vector<double>& se,
              std::vector<double>* correlation) const;
  std::vector<double> mean, m2, cross;
  double count = 0;
};

// The grouped jackknife over the samples (stats/jackknife.hpp): sample n of N lies in group
// n G / N. Per group g, beta and se of every cell without group g's samples. Computed from
// segments (a block's samples within one group, Welford's update like the blocks), merged in
// (block, group) order whatever device computed them, so the bits do not depend on the split.
struct Jackknife {
  std::vector<double> sizes;                      // samples per group
  std::vector<std::vector<double>> beta, se;      // [group][cell], cells laid out as Effects::beta
  std::vector<std::vector<double>> correlation;   // the same for Effects::correlation (when kept)
};

struct Effects {
  std::vector<Mutant> mutants;
  std::vector<int> outputs;       // model output indices, in the order of the columns below
  std::vector<double> beta, se;   // mutant-major: [mutant * outputs.size() + output]
  int samples = 0;                // N (0: dropout off, deterministic effects)
  int jackknife_groups = 0;       // G of the jackknife (0: none)
  // IsmOptions::correlations with dropout: per cell and anchor a (the first
  // IsmOptions::correlation_anchors outputs), the correlation over the samples of its paired
  // differences with those of output a of the same mutant, [a * cells + cell] with cells laid out
  // as beta (an anchor's own cells hold 1, or 0 where a spread is zero). Empty otherwise.
  std::vector<double> correlation;
  bool with_correlation = false;  // the engine keeps them (IsmOptions::correlations, with dropout)
  int correlation_anchors = 0;    // ... with this many anchor outputs
  // A part of a split run (IsmOptions::sample_groups > 1): the blocks this part computed; beta and
  // se are then empty until merge_sample_groups.
  std::vector<BlockState> blocks;
  std::vector<BlockState> segments;  // the same for the jackknife's segments
  // IsmOptions::jackknife_groups > 1 with dropout: the leave-group-out effects (else empty).
  Jackknife jackknife;

  double beta_at(int mutant, int output) const { return beta[static_cast<std::size_t>(mutant) * outputs.size() + output]; }
  double se_at(int mutant, int output) const { return se[static_cast<std::size_t>(mutant) * outputs.size() + output]; }
};

class EffectAccumulator {
 public:
  // jackknife_groups G > 1 (of `samples` = N) also keeps the jackknife's segments; outputs > 0
  // (cells = mutants x outputs, mutant-major) also the co-moments behind Effects::correlation,
  // with each of the first `anchors` outputs (1 <= anchors <= outputs). keep_blocks: every block
  // and segment state is kept (a part of a split run hands them over: blocks(), segments());
  // otherwise each is merged as soon as it is complete, in the order a finish would merge them,
  // so memory does not grow with N (a running merge, and one leave-group-out merge per jackknife
  // group) and the bits are the same.
  explicit EffectAccumulator(std::size_t cells = 0, int jackknife_groups = 0, int samples = 0,
                             int correlation_outputs = 0, int anchors = 1, bool keep_blocks = true);
  // Adds sample `sample` (0-based) of every cell; samples come in increasing order.
  void add(const double* differences, int sample);
  std::size_t cells() const { return cells_; }
  // The blocks seen so far, in order (the last one possibly incomplete), and the segments (without
  // keep_blocks: only the current ones).
  const std::vector<BlockState>& blocks() const { return blocks_; }
  const std::vector<BlockState>& segments() const { return segments_; }
  // beta and se of all samples added (blocks merged in order), and the correlations when kept
  // (`correlation` is left as it is when the accumulator keeps no co-moments).
  void finish(std::vector<double>& beta, std::vector<double>& se) const;
  void finish(std::vector<double>& beta, std::vector<double>& se, std::vector<double>& correlation) const;
  int correlation_outputs() const { return outputs_; }
  // The leave-group-out effects of the samples added (empty without jackknife groups).
  Jackknife jackknife() const;

 private:
  std::size_t cells_;
  int groups_ = 0, samples_ = 0, outputs_ = 0, anchors_ = 0;
  bool keep_blocks_ = true;
  std::vector<BlockState> blocks_, segments_;
  // Without keep_blocks: the complete blocks merged, each group's leave-out merge, group sizes.
  Moments merged_;
  std::vector<Moments> leave_out_;
  std::vector<double> group_sizes_;
  int last_sample_ = -1;
  // Without keep_blocks: the complete blocks' merge with the open one.
  Moments all_merged() const;
};

// The leave-group-out effects from segments of `groups` groups of `samples` samples (with their
// correlations where the segments carry co-moments of `correlation_outputs` outputs per mutant).
Jackknife jackknife_of(std::vector<BlockState> segments, std::size_t cells, int groups, int samples,
                       int correlation_outputs = 0);

// Merges block states in increasing block order into beta and se (and, with correlation_outputs
// > 0, the correlations into *correlation).
void merge_blocks(std::vector<BlockState> blocks, std::size_t cells, std::vector<double>& beta, std::vector<double>& se,
                  int correlation_outputs = 0, std::vector<double>* correlation = nullptr);

// Combines the parts of a split run (each computed by its own engine, e.g. on its own GPU) into
// the effects of the whole run: bitwise what one engine computing every sample gives.
Effects merge_sample_groups(std::vector<Effects> parts);

}  // namespace deepmr::ism
