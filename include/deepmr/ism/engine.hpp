#pragma once
// Mutagenesis engines: the effects (beta, se) of every single-base substitution of one region on
// the requested outputs, under paired-mask Monte Carlo dropout (dropout_masks.hpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "deepmr/ism/effects.hpp"
#include "deepmr/model/network.hpp"

namespace deepmr::ism {

struct IsmOptions {
  int mc_samples = 50;        // N; 0 means dropout off
  bool dropout = true;        // off: deterministic f(m) - f(r) in inference mode, se = 0
  std::uint64_t seed = 1;     // run seed: keys the dropout masks
  std::uint64_t region_id = 0;
  int batch = 64;             // sequences per forward pass; never changes results
  // Test hook: called after each sample with its differences (mutant-major, like Effects::beta).
  std::function<void(int sample, const std::vector<double>& differences)> on_sample;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  // sequence: the window, upper case A/C/G/T (N only when the caller's N policy allows it).
  virtual Effects run(const std::string& sequence, const IsmOptions& options) = 0;
};

// The exact baseline: full forward passes of the reference and of every mutant, per sample.
std::unique_ptr<Engine> make_full_forward_engine(model::Network& network);

}  // namespace deepmr::ism
