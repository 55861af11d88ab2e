#pragma once
// Per-mutant effect sizes of one region and the streaming accumulator that produces them.
//
// For mutant m, output t and paired samples n = 1..N with d_n = f_t(m; theta_n) - f_t(r; theta_n):
//   beta = mean_n d_n,   se = sqrt(mean_n d_n^2 - beta^2)   (the Deep MR paper's formula: the
// spread of the paired difference, population moments, no division by N).
// Accumulated in double with Welford's update, in sample order, so memory does not grow with N and
// no cancellation spoils small SEs.

#include <cstdint>
#include <vector>

#include "deepmr/ism/mutants.hpp"

namespace deepmr::ism {

struct Effects {
  std::vector<Mutant> mutants;
  std::vector<int> outputs;       // model output indices, in the order of the columns below
  std::vector<double> beta, se;   // mutant-major: [mutant * outputs.size() + output]
  int samples = 0;                // N (0: dropout off, deterministic effects)

  double beta_at(int mutant, int output) const { return beta[static_cast<std::size_t>(mutant) * outputs.size() + output]; }
  double se_at(int mutant, int output) const { return se[static_cast<std::size_t>(mutant) * outputs.size() + output]; }
};

class EffectAccumulator {
 public:
  explicit EffectAccumulator(std::size_t cells = 0) : mean_(cells, 0.0), m2_(cells, 0.0) {}
  // Adds sample `count` (1-based: the number of samples including this one) of every cell.
  void add(const double* differences, int count);
  std::size_t cells() const { return mean_.size(); }
  // beta = mean, se = sqrt(M2 / N)
  void finish(std::vector<double>& beta, std::vector<double>& se) const;
  int samples() const { return samples_; }

 private:
  std::vector<double> mean_, m2_;
  int samples_ = 0;
};

}  // namespace deepmr::ism
